import Lake
open Lake DSL

/-! The Lean side of theoremllama.

Pinned stack: Lean v4.24.0 (see `lean-toolchain`), Mathlib v4.24.0, REPL v4.24.0; exact
commits in `lake-manifest.json`. `theoremllama setup-lean` fetches Mathlib's build cache, runs
`lake build Mathlib` and builds the `repl` executable from this file; the harness then starts
`.lake/packages/REPL/.lake/build/bin/repl` in the environment `lake env` prints for this
directory, so that `import Mathlib` resolves. -/

package theoremllama where
  leanOptions := #[⟨`autoImplicit, false⟩]

require mathlib from git
  "https://github.com/leanprover-community/mathlib4.git" @ "v4.24.0"

require REPL from git
  "https://github.com/leanprover-community/repl.git" @ "v4.24.0"

@[default_target]
lean_lib TheoremLlama where
  srcDir := "lean_project"
