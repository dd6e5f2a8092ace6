#!/usr/bin/env node
// Thin shim: the CLI is TypeScript run by Node 24's type stripping.
import "../src/cli/main.ts";
