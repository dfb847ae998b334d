import type { KeyguardErrorCode } from '../codes'

/** A canary key: if this value shows up in any output, a test fails. */
export const canaryKey = 'sk-proj-CANARYcanary0123456789abcdefghijklmnopqrstuvWq8A'

/** Real OpenAI error responses (bodies as OpenAI sends them), each with the code keyguard must give it. */
export const openaiErrorCases: readonly {
  name: string
  status: number | undefined
  body: unknown
  expected: KeyguardErrorCode
  retryable: boolean
}[] = [
  {
    name: '401 invalid_api_key echoing the key',
    status: 401,
    body: {
      error: {
        message: `Incorrect API key provided: sk-proj-${'*'.repeat(40)}Wq8A. You can find your API key at https://platform.openai.com/account/api-keys.`,
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    },
    expected: 'auth.invalid_key',
    retryable: false,
  },
  {
    name: '401 no_organization',
    status: 401,
    body: {
      error: {
        message:
          'You must be a member of an organization to use the API. Please contact us through our help center at help.openai.com.',
        type: 'invalid_request_error',
        param: null,
        code: 'no_organization',
      },
    },
    expected: 'auth.no_organization',
    retryable: false,
  },
  {
    name: '401 mismatched_project',
    status: 401,
    body: {
      error: {
        message: 'OpenAI-Project header should match project for API key',
        type: 'invalid_request_error',
        param: null,
        code: 'mismatched_project',
      },
    },
    expected: 'auth.mismatched_project',
    retryable: false,
  },
  {
    name: '401 mismatched_organization',
    status: 401,
    body: {
      error: {
        message: 'OpenAI-Organization header should match organization for API key',
        type: 'invalid_request_error',
        param: null,
        code: 'mismatched_organization',
      },
    },
    expected: 'auth.mismatched_project',
    retryable: false,
  },
  {
    name: '401 IP not authorized, without a code',
    status: 401,
    body: {
      error: {
        message:
          'You are not authorized to access this resource from this IP address. Check your IP allowlist.',
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    },
    expected: 'auth.ip_not_allowed',
    retryable: false,
  },
  {
    name: '403 unsupported_country_region_territory',
    status: 403,
    body: {
      error: {
        code: 'unsupported_country_region_territory',
        message: 'Country, region, or territory not supported',
        param: null,
        type: 'request_forbidden',
      },
    },
    expected: 'auth.region_unsupported',
    retryable: false,
  },
  {
    name: '429 insufficient_quota (billing, not a rate limit)',
    status: 429,
    body: {
      error: {
        message:
          'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
        type: 'insufficient_quota',
        param: null,
        code: 'insufficient_quota',
      },
    },
    expected: 'quota.insufficient',
    retryable: false,
  },
  {
    name: '429 project spend limit',
    status: 429,
    body: {
      error: {
        message: 'You have exceeded the spend limit set for this project.',
        type: 'insufficient_quota',
        param: null,
        code: 'project_spend_limit_exceeded',
      },
    },
    expected: 'quota.spend_limit',
    retryable: false,
  },
  {
    name: '429 organization spend limit (typed server_error by OpenAI)',
    status: 429,
    body: {
      error: {
        message: 'Your organization reached its enforced spend limit.',
        type: 'server_error',
        param: null,
        code: 'organization_spend_limit_exceeded',
      },
    },
    expected: 'quota.spend_limit',
    retryable: false,
  },
  {
    name: '429 credit_balance_exhausted',
    status: 429,
    body: {
      error: {
        message:
          'Your credit balance is too low to access the API. Please go to Plans & Billing to purchase credits.',
        type: 'insufficient_quota',
        param: null,
        code: 'credit_balance_exhausted',
      },
    },
    expected: 'quota.insufficient',
    retryable: false,
  },
  {
    name: '503 slow_down after a sudden increase',
    status: 503,
    body: {
      error: {
        message: 'Slow Down: please reduce your request rate gradually.',
        type: 'server_error',
        param: null,
        code: 'slow_down',
      },
    },
    expected: 'upstream.overloaded',
    retryable: true,
  },
  {
    name: '401 restricted key missing a scope',
    status: 401,
    body: {
      error: {
        message:
          "You have insufficient permissions for this operation. Missing scopes: model.request. Check that you have the correct role in your organization (Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it has the necessary scopes.",
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    },
    expected: 'auth.permission_denied',
    retryable: false,
  },
  {
    name: '401 restricted key calling images without its scope',
    status: 401,
    body: {
      error: {
        message:
          "You have insufficient permissions for this operation. Missing scopes: api.model.images.request. Check that you have the correct role in your organization (Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it has the necessary scopes.",
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    },
    expected: 'auth.permission_denied',
    retryable: false,
  },
  {
    name: '401 project key calling an Administration API endpoint',
    status: 401,
    body: {
      error: {
        message:
          "You have insufficient permissions for this operation. Missing scopes: api.management.read. Check that you have the correct role in your organization, and if you're using a restricted API key, that it has the necessary scopes.",
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    },
    expected: 'auth.permission_denied',
    retryable: false,
  },
  {
    name: '403 project without access to a model',
    status: 403,
    body: {
      error: {
        message: 'Project `proj_abc123` does not have access to model `o1-pro`',
        type: 'invalid_request_error',
        param: null,
        code: 'model_not_found',
      },
    },
    expected: 'model.not_found',
    retryable: false,
  },
  {
    name: '403 without a code',
    status: 403,
    body: {
      error: {
        message: 'You are not allowed to generate embeddings from this model',
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    },
    expected: 'auth.permission_denied',
    retryable: false,
  },
  {
    name: '401 account_deactivated',
    status: 401,
    body: {
      error: {
        message:
          'This key is associated with a deactivated account. If you feel this is an error, contact us through our help center at help.openai.com.',
        type: 'invalid_request_error',
        param: null,
        code: 'account_deactivated',
      },
    },
    expected: 'auth.invalid_key',
    retryable: false,
  },
  {
    name: '400 billing_hard_limit_reached',
    status: 400,
    body: {
      error: {
        message: 'Billing hard limit has been reached',
        type: 'invalid_request_error',
        param: null,
        code: 'billing_hard_limit_reached',
      },
    },
    expected: 'quota.spend_limit',
    retryable: false,
  },
  {
    name: '429 rate_limit_exceeded on tokens',
    status: 429,
    body: {
      error: {
        message:
          'Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29500, Requested 1200. Please try again in 1.4s. Visit https://platform.openai.com/account/rate-limits to learn more.',
        type: 'tokens',
        param: null,
        code: 'rate_limit_exceeded',
      },
    },
    expected: 'rate.upstream',
    retryable: true,
  },
  {
    name: '429 request too large for the TPM limit',
    status: 429,
    body: {
      error: {
        message:
          'Request too large for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Requested 45210. The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.',
        type: 'tokens',
        param: null,
        code: 'rate_limit_exceeded',
      },
    },
    expected: 'request.too_large_for_tpm',
    retryable: false,
  },
  {
    name: '400 context_length_exceeded',
    status: 400,
    body: {
      error: {
        message:
          "This model's maximum context length is 128000 tokens. However, your messages resulted in 130412 tokens. Please reduce the length of the messages.",
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      },
    },
    expected: 'request.context_length',
    retryable: false,
  },
  {
    name: '404 model_not_found',
    status: 404,
    body: {
      error: {
        message: 'The model `gpt-9` does not exist or you do not have access to it.',
        type: 'invalid_request_error',
        param: null,
        code: 'model_not_found',
      },
    },
    expected: 'model.not_found',
    retryable: false,
  },
  {
    name: '400 unsupported_parameter',
    status: 400,
    body: {
      error: {
        message:
          "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
        type: 'invalid_request_error',
        param: 'max_tokens',
        code: 'unsupported_parameter',
      },
    },
    expected: 'request.invalid',
    retryable: false,
  },
  {
    name: '400 content_policy_violation',
    status: 400,
    body: {
      error: {
        message: 'Your request was rejected as a result of our safety system.',
        type: 'invalid_request_error',
        param: null,
        code: 'content_policy_violation',
      },
    },
    expected: 'request.content_policy',
    retryable: false,
  },
  {
    name: '404 Invalid URL',
    status: 404,
    body: {
      error: {
        message: 'Invalid URL (POST /v1/chat/completion)',
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    },
    expected: 'request.invalid',
    retryable: false,
  },
  {
    name: '500 server_error',
    status: 500,
    body: {
      error: {
        message: 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
        param: null,
        code: null,
      },
    },
    expected: 'upstream.server_error',
    retryable: true,
  },
  {
    name: '503 engine overloaded',
    status: 503,
    body: {
      error: {
        message: 'The engine is currently overloaded, please try again later',
        type: 'server_error',
        param: null,
        code: null,
      },
    },
    expected: 'upstream.overloaded',
    retryable: true,
  },
  {
    name: '502 HTML page from a gateway',
    status: 502,
    body: '<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>',
    expected: 'upstream.server_error',
    retryable: true,
  },
  {
    name: '504 gateway timeout without a body',
    status: 504,
    body: undefined,
    expected: 'upstream.timeout',
    retryable: true,
  },
  {
    name: 'chat stream error event (no status)',
    status: undefined,
    body: {
      error: {
        message: 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
        param: null,
        code: null,
      },
    },
    expected: 'upstream.server_error',
    retryable: true,
  },
  {
    name: 'responses stream error event (no status)',
    status: undefined,
    body: {
      type: 'error',
      code: 'rate_limit_exceeded',
      message: 'Rate limit reached for gpt-4o.',
      param: null,
      sequence_number: 3,
    },
    expected: 'rate.upstream',
    retryable: true,
  },
  {
    name: 'responses stream response.failed event',
    status: undefined,
    body: {
      type: 'response.failed',
      sequence_number: 9,
      response: {
        id: 'resp_1',
        status: 'failed',
        error: { code: 'server_error', message: 'An error occurred.' },
      },
    },
    expected: 'upstream.server_error',
    retryable: true,
  },
]
