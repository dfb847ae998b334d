// Reads width and height from the header of a base64 data URL (PNG, GIF, WebP, JPEG), so an inline
// image is counted with its real shape instead of the worst case.
const HEADER_BYTES = 65_536

function bytesOf(dataUrl: string): Uint8Array | undefined {
  const comma = dataUrl.indexOf(',')
  if (!dataUrl.startsWith('data:') || comma < 0 || !dataUrl.slice(0, comma).endsWith(';base64'))
    return undefined
  // Only the start is decoded: a multiple of 4 base64 chars, enough for any header we read.
  const chunk = dataUrl
    .slice(comma + 1, comma + 1 + Math.ceil((HEADER_BYTES * 4) / 3 / 4) * 4)
    .replace(/\s/g, '')
  try {
    const binary = atob(chunk.slice(0, chunk.length - (chunk.length % 4)))
    const bytes = new Uint8Array(binary.length)
    for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index)
    return bytes
  } catch {
    return undefined
  }
}

function jpegSize(b: Uint8Array): { width: number; height: number } | undefined {
  let offset = 2
  while (offset + 9 < b.length) {
    if (b[offset] !== 0xff) return undefined
    const marker = b[offset + 1] ?? 0
    const length = ((b[offset + 2] ?? 0) << 8) | (b[offset + 3] ?? 0)
    // SOF0–SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return {
        height: ((b[offset + 5] ?? 0) << 8) | (b[offset + 6] ?? 0),
        width: ((b[offset + 7] ?? 0) << 8) | (b[offset + 8] ?? 0),
      }
    }
    offset += 2 + length
  }
  return undefined
}

/** Width and height of an inline image, or undefined when it is a URL or a format not read here. */
export function imageSize(url: unknown): { width: number; height: number } | undefined {
  if (typeof url !== 'string') return undefined
  const b = bytesOf(url)
  if (!b || b.length < 30) return undefined
  const u16le = (i: number) => (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8)
  const u24le = (i: number) => u16le(i) | ((b[i + 2] ?? 0) << 16)
  const u32be = (i: number) =>
    (((b[i] ?? 0) << 24) | ((b[i + 1] ?? 0) << 16) | ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0)) >>> 0
  let size: { width: number; height: number } | undefined
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47)
    size = { width: u32be(16), height: u32be(20) }
  else if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) size = { width: u16le(6), height: u16le(8) }
  else if (b[0] === 0xff && b[1] === 0xd8) size = jpegSize(b)
  else if (
    String.fromCharCode(...b.subarray(0, 4)) === 'RIFF' &&
    String.fromCharCode(...b.subarray(8, 12)) === 'WEBP'
  ) {
    const chunk = String.fromCharCode(...b.subarray(12, 16))
    if (chunk === 'VP8X') size = { width: u24le(24) + 1, height: u24le(27) + 1 }
    else if (chunk === 'VP8 ') size = { width: u16le(26) & 0x3fff, height: u16le(28) & 0x3fff }
    else if (chunk === 'VP8L') {
      const bits = ((b[21] ?? 0) | ((b[22] ?? 0) << 8) | ((b[23] ?? 0) << 16) | ((b[24] ?? 0) << 24)) >>> 0
      size = { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 }
    }
  }
  return size && size.width > 0 && size.height > 0 ? size : undefined
}
