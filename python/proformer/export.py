"""The command line of the ONNX export (proformer.onnx_export):

    python3 -m proformer.export CHECKPOINT OUT.onnx [--input tokens|one-hot] [--opset 17]

(`pf-export` when the package is installed with pip.) A bad checkpoint, opset
or output path gets one line on stderr and exit status 1, and no file.
"""
import argparse
import os
import sys

from ._proformer import ProformerError
from .onnx_export import INPUTS, MIN_OPSET, export_onnx


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m proformer.export",
                                     description="Exports a Proformer checkpoint as an ONNX graph (docs/export.md).")
    parser.add_argument("checkpoint", help="model file or prefix (runs/demo/best)")
    parser.add_argument("output", help="the .onnx file to write")
    parser.add_argument("--input", choices=INPUTS, default="tokens",
                        help="the graph's input: tokens int64 [N, 2 * seq_len] or one-hot float [N, 4, L] "
                             "(default tokens)")
    parser.add_argument("--opset", type=int, default=MIN_OPSET, help=f"ONNX opset (default {MIN_OPSET})")
    args = parser.parse_args(argv)
    try:
        export_onnx(args.checkpoint, args.output, args.opset, args.input)
    except (ImportError, ValueError, OSError, ProformerError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {args.output} ({os.path.getsize(args.output) / 1e6:.1f} MB, input {args.input}, opset {args.opset})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
