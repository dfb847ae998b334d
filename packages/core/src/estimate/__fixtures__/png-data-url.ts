const be32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]

/** A base64 data URL holding the start of a PNG of this size (signature and IHDR): enough to read its size. */
export function pngDataUrl(width: number, height: number): string {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
  const ihdr = [0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, ...be32(width), ...be32(height), 8, 6, 0, 0, 0]
  const bytes = [...signature, ...ihdr, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
  return `data:image/png;base64,${btoa(String.fromCharCode(...bytes))}`
}
