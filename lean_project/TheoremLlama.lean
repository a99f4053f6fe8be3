import TheoremLlama.Basic
