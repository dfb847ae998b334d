// Token-count corpus: each script and shape that stresses a BPE differently.
export const corpus: Record<string, string> = {
  english: 'The quick brown fox jumps over the lazy dog. It\'s 3:45pm — isn\'t it? "Yes," she said.',
  prose:
    "In the beginning the Universe was created. This has made a lot of people very angry and been widely regarded as a bad move.\n\nMany were increasingly of the opinion that they'd all made a big mistake in coming down from the trees in the first place.",
  code: 'export async function main(argv: string[]): Promise<number> {\n\tconst [cmd, ...rest] = argv;\n\tif (!cmd) return 1;\n\treturn rest.reduce((a, b) => a + b.length, 0) >>> 0;\n}\n',
  python:
    'def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\nprint([fib(i) for i in range(10)])',
  json: JSON.stringify(
    {
      id: 'chatcmpl-123',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi!' } }],
      usage: { prompt_tokens: 9, completion_tokens: 12 },
    },
    null,
    2,
  ),
  cjk: '我能吞下玻璃而不伤身体。日本語の文章を書いています。한국어 문장도 있습니다。',
  emoji: '👋🏽 Hello 🌍! 👨‍👩‍👧‍👦 family, 🏳️‍🌈 flag, ❤️‍🔥 and 🇫🇷🇯🇵 flags.',
  rtl: 'مرحبا بالعالم. هذا نص عربي. שלום עולם, זה טקסט בעברית.',
  mixedScripts: 'Привет мир! Γειά σου Κόσμε! नमस्ते दुनिया! สวัสดีชาวโลก',
  whitespace: '   leading spaces\t\ttabs\n\n\n\nnewlines      and     runs   \r\n trailing   ',
  numbers: '3.14159265358979 1,000,000 0xDEADBEEF 1e-9 -42 2026-11-29T03:30:00Z',
  special: 'text with <|endoftext|> and <|im_start|>user<|im_end|> and <|fim_prefix|> inside',
  urls: 'https://platform.openai.com/docs/guides/text?api-mode=responses#counting-tokens user@example.com',
  longWord: `${'supercalifragilistic'.repeat(15)} end`,
  markdown: '# Title\n\n- item **bold** _it_\n- `code`\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n> quote',
}
