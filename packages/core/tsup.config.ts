import { defineConfig } from 'tsup'
import internal from './internal-props.json'

/** The internal property names of internal-props.json, renamed to short ones in the dist (what they cost an app). */
const mangleProps = new RegExp(`^(${Object.values(internal).filter(Array.isArray).flat().join('|')})$`)

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    'redis/index': 'src/redis/index.ts',
    'codec/index': 'src/codec/index.ts',
    'devalue/index': 'src/codec/devalue.ts',
    'msgpack/index': 'src/codec/msgpack.ts',
    'kit/index': 'src/kit/index.ts',
    'store/index': 'src/store/index.ts',
    'http/index': 'src/http/index.ts',
    'otel/index': 'src/otel/index.ts',
  },
  format: ['esm'],
  target: 'es2022',
  dts: true,
  clean: true,
  // The package says "sideEffects": false; so does tsup's tree shaking (rollup) here, or it leaves bare
  // `import './chunk-*.js'` lines that every app's bundler then drops with an [ignored-bare-import] warning
  // (tools/size/src/bare-imports.test.mjs).
  treeshake: { moduleSideEffects: false },
  external: ['vitest', 'devalue', 'msgpackr', '@opentelemetry/api'],
  // One esbuild run builds every entry, so a renamed property has the same short name in all of them.
  esbuildOptions(options) {
    options.mangleProps = mangleProps
  },
})
