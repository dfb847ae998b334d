export type { ConformanceHarness, ConformanceOptions } from './describe-store-conformance'
export { describeStoreConformance } from './describe-store-conformance'
