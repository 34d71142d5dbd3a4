package dev.curvlab.curvature.cli;

import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.hessian.HessianMethod;
import dev.curvlab.curvature.hessian.StructuredHessian;
import dev.curvlab.curvature.operator.CurvatureOperator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * A command that materialises a curvature matrix [N, N], or one layer's diagonal block
 * ({@code --layer}), with {@link FullHessian} (plan with memory preflight, the method the operator
 * allows, progress, streaming to a temporary of the command's {@link dev.curvlab.nn.io.OutputTransaction}
 * and renaming when complete, checkpoints). A new dense-matrix command is its operator and its name.
 */
abstract class DenseMatrixCommand extends CurvlabSubcommand {
    @Mixin
    ModelOptions model;

    @Mixin
    TargetOptions targets;

    @Mixin
    DenseOptions dense;

    @Option(names = "--out", order = 30, paramLabel = "FILE", description = "write the matrix [N, N] (float64 .npy; streamed to a hidden temporary, renamed when complete)")
    Path out;

    @Option(names = "--layer", order = 10, paramLabel = "L",
            description = "only layer L's diagonal block (0-based; its W and b, [P_L, P_L] with P_L = (in + 1) * out)")
    Integer layer;

    /** The matrix's name in messages, e.g. "Hessian". */
    protected abstract String matrixName();

    /** The operator whose dense matrix this command computes. */
    protected abstract CurvatureOperator operator(Problem p);

    @Override
    protected void checkOptions() {
        if (dense.block < 0 || dense.block > DenseOptions.MAX_BLOCK) {
            throw usage("--block must be in 0.." + DenseOptions.MAX_BLOCK + " (0 = chosen from the memory budget), got " + dense.block);
        }
        checkWritable(out, "--out");
        if (layer != null && layer < 0) {
            throw usage("--layer must be >= 0, got " + layer);
        }
        if (layer != null && dense.checkpoint != null) {
            throw usage("--checkpoint cannot be combined with --layer (a layer's block is computed in one go)");
        }
        if (dense.checkpoint != null && Files.exists(dense.checkpoint) && !Files.isDirectory(dense.checkpoint)) {
            throw new BadInputException(dense.checkpoint + ": --checkpoint must be a directory");
        }
    }

    @Override
    protected void run() throws Exception {
        Problem p = Problem.load(model, targets);
        CurvatureOperator op = targets.configure(operator(p));
        FullHessian.Result r = compute(op, out);
        report(op, r, out);
    }

    /** The layer's parameters {@code [start, end)}, or a usage error naming the model's layers; null without --layer. */
    protected long[] layerRange(CurvatureOperator op) {
        if (layer == null) {
            return null;
        }
        try {
            return op.model().parameterRange(layer);
        } catch (IllegalArgumentException e) {
            throw usage("--layer " + layer + ": " + e.getMessage());
        }
    }

    /** Refuses --method structured for operators it does not support (a usage error, before any work). */
    protected void checkMethod(CurvatureOperator op) {
        if (dense.method == HessianMethod.STRUCTURED && !StructuredHessian.supports(op)) {
            throw usage("--method structured is not available for the " + matrixName()
                    + (!op.model().isDenseChain() ? " of a model that is not a chain of dense layers" : "")
                    + "; use auto, blocked or rowloop");
        }
    }

    /**
     * The dense matrix of {@code op} (the layer's block with --layer), written to {@code target} when it
     * is not null: FullHessian streams it into the transaction's temporary for {@code target} (renamed
     * into place when the command succeeds); a special target (/dev/null, a FIFO) gets the in-memory
     * matrix at commit.
     */
    protected FullHessian.Result compute(CurvatureOperator op, Path target) throws Exception {
        checkMethod(op);
        long[] range = layerRange(op);
        boolean special = target != null && outputs.isSpecial(target);
        FullHessian.Result r;
        try (CliProgress progress = progress("columns")) {
            FullHessian.Options o = dense.toOptions().withProgress(progress);
            if (target != null && !special) {
                o = o.withOut(outputs.stage(target));
            }
            if (range != null) {
                o = o.withLayer(layer);
            }
            r = FullHessian.compute(op, o);
        }
        if (special) {
            write(target, r.matrix());
        }
        return r;
    }

    /** The report of {@link #report(long, FullHessian.Result, Path)}, preceded by the layer's range with --layer. */
    protected void report(CurvatureOperator op, FullHessian.Result r, Path written) {
        long[] range = layerRange(op);
        if (range != null) {
            out().println(String.format(Locale.ROOT, "layer %d: parameters [%d, %d) of N = %d", layer, range[0], range[1], op.size()));
        }
        report(range == null ? op.size() : range[1] - range[0], r, written);
    }

    /** Prints N, the method, the time and the asymmetry, and where the matrix went. */
    protected void report(long n, FullHessian.Result r, Path written) {
        String asym = Double.isNaN(r.asymmetry()) ? "not measured (streamed to disk)" : String.format(Locale.ROOT, "%.3e", r.asymmetry());
        out().println(String.format(Locale.ROOT, "%s: N = %d, method = %s%s, %.3f s, max |H - H^T| = %s%s%s", matrixName(), n,
                r.method().name().toLowerCase(Locale.ROOT), r.method() == HessianMethod.BLOCKED ? " (block " + r.blockSize() + ")" : "",
                r.seconds(), asym, dense.symmetrize ? " (before --symmetrize)" : "", r.resumed() ? ", resumed from checkpoint" : ""));
        Path file = written != null ? written : r.file();
        if (file != null) {
            out().println("wrote " + file + " [" + n + ", " + n + "]");
        }
    }
}
