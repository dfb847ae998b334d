import { defineConfig } from 'tsup'
import { packageBuild } from '../../tsup.base'

// The ContextVariableMap augmentation ships once, as dist/context.d.ts (copied by the build script),
// referenced by both type entries.
export default defineConfig(
  packageBuild({
    dts: { banner: '/// <reference path="./context.d.ts" />' },
  }),
)
