import { describe, expect, it } from 'vitest'
import { foreignReference, ownerOfScope } from './proxy-ownership'

describe('ownerOfScope', () => {
  it('names one owner per scope whatever the key order, and keeps users and look-alikes apart', () => {
    expect(ownerOfScope({ user: 'u9', tenant: 'acme' })).toBe(ownerOfScope({ tenant: 'acme', user: 'u9' }))
    expect(ownerOfScope({ tenant: 'acme', user: undefined })).toBe('tenant=acme')
    expect(ownerOfScope({ tenant: 'acme', user: 'u1' })).not.toBe(
      ownerOfScope({ tenant: 'acme', user: 'u2' }),
    )
    expect(ownerOfScope({ tenant: 'a&user=b' })).not.toBe(ownerOfScope({ tenant: 'a', user: 'b' }))
  })
})

describe('foreignReference', () => {
  it('finds a stored-object id anywhere in a body, with its path', () => {
    expect(
      foreignReference({ input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'f' }] }] }),
    ).toBe('input[0].content[0].file_id')
    expect(foreignReference({ tools: [{ type: 'file_search', vector_store_ids: ['vs_1'] }] })).toBe(
      'tools[0].vector_store_ids',
    )
    expect(foreignReference({ input: [{ type: 'item_reference', id: 'msg_1' }] })).toBe('input[0]')
  })

  it('passes text, schemas and a new container', () => {
    expect(foreignReference({ input: 'my file_id is conversation' })).toBeUndefined()
    expect(
      foreignReference({ text: { format: { schema: { properties: { file_id: {} } } } } }),
    ).toBeUndefined()
    expect(
      foreignReference({ tools: [{ type: 'code_interpreter', container: { type: 'auto' } }] }),
    ).toBeUndefined()
  })

  it('refuses a body nested deeper than any OpenAI request', () => {
    let deep: unknown = 'x'
    for (let level = 0; level < 100; level++) deep = { a: deep }
    expect(foreignReference(deep)).toBeDefined()
  })
})
