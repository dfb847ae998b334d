export type { FakeClock } from './clock/fake-clock'
export { fakeClock } from './clock/fake-clock'
