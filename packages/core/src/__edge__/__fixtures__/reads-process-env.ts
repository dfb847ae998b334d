export const readKey = () => process.env.OPENAI_API_KEY ?? 'unset'
