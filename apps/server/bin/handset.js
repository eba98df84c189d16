#!/usr/bin/env node
// The `handset` command: runs the built CLI (npm install and npm start build it).
import('../dist/cli/main.js').catch((err) => {
  process.stderr.write(`handset: cannot load the CLI (${err.message}); run "npm run build" first\n`);
  process.exit(1);
});
