#!/usr/bin/env node
// Thin launcher: the bundled CLI lives in dist/ (built by `npm run build`, run by `npm install`'s prepare).
import('../dist/cli.js');
