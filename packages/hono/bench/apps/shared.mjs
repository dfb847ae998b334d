// What the proxy bench's processes agree on.
export const benchVirtualKey = 'kg-bench-0000000000000000000000000000'
