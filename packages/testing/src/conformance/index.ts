export type { AdapterApp, AdapterSetup } from './describe-adapter-conformance'
export { describeAdapterConformance } from './describe-adapter-conformance'
export type { ConformanceHarness, ConformanceOptions } from './describe-store-conformance'
export { describeStoreConformance } from './describe-store-conformance'
