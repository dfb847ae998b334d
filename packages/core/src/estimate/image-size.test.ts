import { describe, expect, it } from 'vitest'
import { pngDataUrl as png } from './__fixtures__/png-data-url'
import { imageSize } from './image-size'

const dataUrl = (mime: string, bytes: number[]) => {
  const padded = [...bytes, ...new Array(Math.max(0, 40 - bytes.length)).fill(0)]
  return `data:${mime};base64,${btoa(String.fromCharCode(...padded))}`
}
const le16 = (n: number) => [n & 255, (n >> 8) & 255]
const le24 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255]

const gif = (w: number, h: number) =>
  dataUrl('image/gif', [0x47, 0x49, 0x46, 0x38, 0x39, 0x61, ...le16(w), ...le16(h)])
const jpeg = (w: number, h: number) =>
  dataUrl('image/jpeg', [
    0xff,
    0xd8,
    0xff,
    0xe0,
    0,
    4,
    0,
    0,
    0xff,
    0xc0,
    0,
    17,
    8,
    h >> 8,
    h & 255,
    w >> 8,
    w & 255,
    3,
  ])
const webp = (w: number, h: number) =>
  dataUrl('image/webp', [
    ...[0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50, 0x38, 0x58],
    ...[10, 0, 0, 0, 0, 0, 0, 0],
    ...le24(w - 1),
    ...le24(h - 1),
  ])

describe('imageSize', () => {
  it('reads PNG, GIF, JPEG and WebP headers from a data URL', () => {
    expect(imageSize(png(1024, 768))).toEqual({ width: 1024, height: 768 })
    expect(imageSize(gif(320, 200))).toEqual({ width: 320, height: 200 })
    expect(imageSize(jpeg(1800, 2400))).toEqual({ width: 1800, height: 2400 })
    expect(imageSize(webp(640, 480))).toEqual({ width: 640, height: 480 })
  })

  it('returns undefined for a remote URL or garbage', () => {
    expect(imageSize('https://example.com/cat.png')).toBeUndefined()
    expect(imageSize('data:image/png;base64,!!!')).toBeUndefined()
    expect(imageSize(42)).toBeUndefined()
  })
})
