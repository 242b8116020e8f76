package local

import (
	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/llama"
)

// vocabPieces gives every token of v the bytes it stands for, as servers
// report them in `bytes`: a text piece with its plain spaces (not
// stripped after BOS, which is the decoder's business), a byte token its
// byte. Control, unknown and unused tokens stand for no bytes (servers
// differ in what they show for them), so they are left out: no evidence
// either way.
func vocabPieces(v *llama.Vocab) *format.Pieces {
	p := format.NewPieces()
	for id := range v.Size() {
		piece, typ := v.Piece(int32(id))
		switch typ {
		case llama.TokenNormal, llama.TokenUserDefined:
			p.Add(int32(id), piece)
		case llama.TokenByte:
			if b := v.AppendDecoded(nil, -1, int32(id)); len(b) == 1 {
				p.Add(int32(id), string(b))
			}
		}
	}
	return p
}
