#!/usr/bin/env node
// The published CLI runs the compiled code; inside this repository `pnpm credly` runs the source.
import '../dist/cli/run.js'
