import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { scrubSecrets } from './scrub-secrets'
import { Secret } from './secret'

const key = 'sk-proj-Q1w2E3r4T5y6U7i8O9p0AsDfGhJkLzXcVbNm_-FAKEk3yXWq8A'
const legacy = 'sk-FAKEk3yXa1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8'

describe('scrubSecrets', () => {
  it('removes a known value, naming the Secret it came from', () => {
    const secret = Secret.from('my-gateway-token-42', 'GATEWAY_TOKEN')
    expect(scrubSecrets('token=my-gateway-token-42 done', [secret])).toBe(
      'token=<redacted:GATEWAY_TOKEN> done',
    )
    expect(scrubSecrets('a hunter22 b hunter22', ['hunter22'])).toBe('a <redacted> b <redacted>')
  })

  it('removes anything shaped like an OpenAI key', () => {
    expect(scrubSecrets(`key ${key} and ${legacy}.`)).toBe('key <redacted> and <redacted>.')
    expect(scrubSecrets(`"apiKey":"sk-svcacct-${'Ab1'.repeat(20)}"`)).toBe('"apiKey":"<redacted>"')
  })

  it("removes OpenAI's echo of the key in a 401 message", () => {
    const message =
      'Incorrect API key provided: sk-proj-********************************************************Wq8A. You can find your API key at https://platform.openai.com/account/api-keys.'
    expect(scrubSecrets(message)).toBe(
      'Incorrect API key provided: <redacted>. You can find your API key at https://platform.openai.com/account/api-keys.',
    )
    expect(
      scrubSecrets('Incorrect API key provided: sk-abc12***************************************wxyz.'),
    ).toBe('Incorrect API key provided: <redacted>.')
  })

  it('removes Authorization header values in the forms logs print them', () => {
    expect(scrubSecrets('Authorization: Bearer gw_tok3n_value')).toBe('Authorization: Bearer <redacted>')
    expect(scrubSecrets(`{"authorization":"Bearer ${key}"}`)).toBe('{"authorization":"Bearer <redacted>"}')
    expect(scrubSecrets("-H 'authorization: Basic dXNlcjpwYXNz'")).toBe(
      "-H 'authorization: Basic <redacted>'",
    )
    expect(scrubSecrets("'authorization' => 'Bearer abc.def'")).toBe("'authorization' => 'Bearer <redacted>'")
    expect(scrubSecrets('x-api-key=abcdef123')).toBe('x-api-key=<redacted>')
  })

  it('leaves ordinary text alone', () => {
    const text = 'risk-management-framework-for-enterprise; task-runner; sk-learn; the sky is blue'
    expect(scrubSecrets(text)).toBe(text)
  })

  it('never leaves a planted key in random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200 }), (before, after) => {
        const text = `${before} ${key} ${after}`
        expect(scrubSecrets(text, [key])).not.toContain(key)
        expect(scrubSecrets(`${before}${key}${after}`, [key])).not.toContain(key)
      }),
      { numRuns: 300 },
    )
  })

  it('never leaves a planted key shape, even without knowing the value', () => {
    const keyBody = fc.stringMatching(/^[A-Za-z0-9_-]{24,80}$/).filter((s) => /[0-9]/.test(s))
    fc.assert(
      fc.property(
        fc.string({ maxLength: 100 }),
        keyBody,
        fc.string({ maxLength: 100 }),
        (before, body, after) => {
          const planted = `sk-proj-${body}`
          expect(scrubSecrets(`${before} ${planted} ${after}`)).not.toContain(planted)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('changes nothing in text with no key, header or known value', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[^sSkKaA]*$/), (text) => {
        expect(scrubSecrets(text)).toBe(text)
      }),
      { numRuns: 300 },
    )
  })

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const once = scrubSecrets(`${text} ${key} Authorization: Bearer ${text}`, [key])
        expect(scrubSecrets(once, [key])).toBe(once)
      }),
      { numRuns: 200 },
    )
  })

  it('stays linear on adversarial input up to 1 MB', () => {
    const size = 1 << 20
    const fill = (unit: string) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size)
    const adversarial = [
      fill('sk-'),
      fill('sk-a'),
      fill('sk-aaaaaaaaaaaaaa '),
      fill('sk-a1b2c3d4e5f6g7h8i9j0 '),
      fill('a'),
      fill('*'),
      fill('authorization'),
      fill('authorization: '),
      `authorization:${' '.repeat(size)}`,
      `authorization: bearer${' '.repeat(size)}`,
      fill('Authorization: Bearer x '),
      fill(`${key.slice(0, 20)}`),
    ]
    // The fastest of three runs, so a GC pause or a busy CI core does not look like a slow pattern.
    const timeOf = (text: string) => {
      let best = Number.POSITIVE_INFINITY
      for (let run = 0; run < 3; run++) {
        const start = performance.now()
        scrubSecrets(text, [key])
        best = Math.min(best, performance.now() - start)
      }
      return best
    }
    for (const text of adversarial) {
      const half = timeOf(text.slice(0, size / 2))
      const full = timeOf(text)
      // A quadratic pattern takes minutes on 1 MB; linear takes milliseconds. The bounds are loose enough
      // for a starved CI core (a 60 ms half and an 835 ms whole were seen beside two CPU burners): only
      // a pattern seconds slow on 1 MB and ten times its half fails.
      expect(full, text.slice(0, 20)).toBeLessThan(10_000)
      expect(full, text.slice(0, 20)).toBeLessThan(Math.max(5_000, half * 10))
    }
  })

  it('scrubs random printable text up to 1 MB in bounded time', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.constantFrom('sk-', 'proj-', 'a', 'Z', '9', '*', ' ', '\n', 'Bearer ', 'Authorization:', '"'),
          {
            minLength: 1,
            maxLength: 64,
          },
        ),
        fc.integer({ min: 1, max: 1 << 20 }),
        (parts, length) => {
          const unit = parts.join('')
          const text = unit.repeat(Math.ceil(length / unit.length)).slice(0, length)
          const start = performance.now()
          scrubSecrets(text, [key])
          expect(performance.now() - start).toBeLessThan(10_000)
        },
      ),
      { numRuns: 15 },
    )
  })
})
