export const hasProcess = () => typeof process !== 'undefined'
export const hasBuffer = () => typeof Buffer !== 'undefined'
