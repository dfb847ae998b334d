import { defineConfig } from 'tsup'
import { packageBuild } from '../../tsup.base'

// Migrations are SQL files in src/migrations, bundled as text so no runtime file access is needed.
export default defineConfig(packageBuild({ loader: { '.sql': 'text' } }))
