package dev.curvlab.curvature.cli;

import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.hessian.HessianMethod;
import dev.curvlab.curvature.hessian.HessianTooLargeException;
import dev.curvlab.curvature.hessian.MemoryBudget;
import dev.curvlab.curvature.hessian.StructuredHessian;
import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.curvature.operator.SubsetOperator;
import java.util.Locale;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code curvlab hessian}: the dense Hessian of the mean loss, or one layer's diagonal block. */
@Command(name = "hessian", sortOptions = false, usageHelpAutoWidth = true,
        description = {"Hessian [N, N] of the mean loss at the parameters; prints N, the method, the time and max |H - H^T|.",
                "Rows and columns follow the parameter layout (per layer W [in, out] row-major, then b)."})
final class HessianCommand extends DenseMatrixCommand {
    @Option(names = "--layer", order = 10, paramLabel = "L",
            description = "only layer L's diagonal block (0-based; its W and b, [P_L, P_L] with P_L = (in + 1) * out)")
    Integer layer;

    @Override
    protected String matrixName() {
        return "Hessian";
    }

    @Override
    protected CurvatureOperator operator(Problem p) {
        return new HessianOperator(p.model(), p.loss(), p.data(), p.theta(), p.batchSize());
    }

    @Override
    protected void checkOptions() {
        super.checkOptions();
        if (layer != null && layer < 0) {
            throw usage("--layer must be >= 0, got " + layer);
        }
        if (layer != null && dense.checkpoint != null) {
            throw usage("--checkpoint cannot be combined with --layer (a layer's block is computed in one go)");
        }
    }

    @Override
    protected void run() throws Exception {
        if (layer == null) {
            super.run();
            return;
        }
        Problem p = Problem.load(model, targets);
        int layers = p.model().modules().size();
        if (layer >= layers) {
            throw usage("--layer " + layer + " is out of range: model " + p.model().describe() + " has " + layers
                    + " layers (0.." + (layers - 1) + ")");
        }
        long[] range;
        try {
            range = p.model().parameterRange(layer);
        } catch (IllegalArgumentException e) {
            throw usage("--layer " + layer + ": " + e.getMessage());
        }
        long start = range[0];
        long end = range[1];
        CurvatureOperator op = operator(p);
        if (p.model().isDenseChain() && (dense.method == HessianMethod.AUTO || dense.method == HessianMethod.STRUCTURED)) {
            structuredBlock(op, start, end);
        } else {
            FullHessian.Result r = compute(new SubsetOperator(op, start, end), out);
            out().println(String.format(Locale.ROOT, "layer %d: parameters [%d, %d) of N = %d", layer, start, end, op.size()));
            report(end - start, r, out);
        }
    }

    /** The block by the structured method (no column loop), with the same checks and report as FullHessian. */
    private void structuredBlock(CurvatureOperator op, long start, long end) throws Exception {
        long rows = end - start;
        MemoryBudget budget = dense.budget();
        double need = 8.0 * rows * rows * 2.6;
        if (need > budget.bytes()) {
            throw new HessianTooLargeException(String.format(Locale.ROOT,
                    "the Hessian block of layer %d (%d x %d) needs about %s, more than the %s budget (--max-memory)", layer, rows, rows,
                    MemoryBudget.format(need), MemoryBudget.format(budget.bytes())));
        }
        long t0 = System.nanoTime();
        INDArray h = StructuredHessian.layerBlock(op, layer);
        double seconds = (System.nanoTime() - t0) / 1e9;
        double asym = Transforms.abs(h.sub(h.transpose()), false).maxNumber().doubleValue();
        if (dense.symmetrize) {
            h = h.add(h.transpose()).muli(0.5);
        }
        if (out != null) {
            write(out, h);
        }
        out().println(String.format(Locale.ROOT, "layer %d: parameters [%d, %d) of N = %d", layer, start, end, op.size()));
        out().println(String.format(Locale.ROOT, "Hessian: N = %d, method = structured, %.3f s, max |H - H^T| = %.3e%s", rows, seconds,
                asym, dense.symmetrize ? " (before --symmetrize)" : ""));
        if (out != null) {
            out().println("wrote " + out + " [" + rows + ", " + rows + "]");
        }
    }
}
