package dev.curvlab.curvature.cli;

import dev.curvlab.core.Rowwise;
import dev.curvlab.core.Tensor;
import dev.curvlab.nn.products.LayerProducts;
import java.nio.file.Path;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code curvlab jacobian}: per-sample Jacobians of the network outputs w.r.t. its inputs, by the
 * layer engine (out cotangents per sample pulled back through the modules) for dense chains and
 * image models, else by the generic engine ({@code Rowwise.jacobian}).
 */
@Command(name = "jacobian", sortOptions = false, usageHelpAutoWidth = true,
        description = "Per-sample Jacobians [n, out, in] of the network outputs with respect to its inputs,"
                + " J[i, a, b] = d f_a(x_i) / d x_ib (no targets or loss needed); for images in = C*H*W in (C, H, W) order.")
final class JacobianCommand extends CurvlabSubcommand {
    @Mixin
    ModelOptions model;

    @Mixin
    MemoryOption memory;

    @Option(names = "--out", order = 30, paramLabel = "FILE", description = "write the Jacobians [n, out, in] (float64 .npy)")
    Path out;

    @Override
    protected void checkOptions() {
        checkWritable(out, "--out");
    }

    /** Images {@code [n, C, H, W]} as rows {@code [n, C H W]} in (C, H, W) order, the columns of the Jacobian. */
    private static INDArray flat(INDArray x) {
        return x.rank() == 2 ? x : x.reshape('c', new long[] {x.size(0), x.length() / x.size(0)});
    }

    @Override
    protected void run() throws Exception {
        Problem p = Problem.loadInputs(model);
        long rows = p.data().n();
        long in = p.model().inputSize();
        long outs = p.model().outputSize();
        double result = 8.0 * rows * in * outs;
        // the result, its reshaped copy and the tangents: min(in, out) directions through every layer for every row
        boolean layers = LayerProducts.supportsInputJacobians(p.model());
        double work = layers ? result + LayerProducts.inputJacobianBytes(p.model(), rows)
                : 2 * result + 8.0 * 6 * rows * Math.min(in, outs) * ResourcePreflight.widths(p);
        ResourcePreflight.require(String.format(java.util.Locale.ROOT, "the Jacobians [%d, %d, %d] of the %d rows of --x %s", rows, outs, in,
                rows, model.x), result + work, memory.budget(), "pass fewer rows in --x (split the file)");
        requireSpace(out, result + 128);
        long start = System.nanoTime();
        INDArray j;
        if (layers) {
            j = LayerProducts.inputJacobians(p.model(), p.theta(), p.data().x());
        } else {
            Tensor theta = Tensor.of(p.theta());
            j = Rowwise.jacobian(x -> p.model().forward(theta, x)).apply(Tensor.of(flat(p.data().x()))).array();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (out != null) {
            write(out, j);
        }
        out().println(String.format(java.util.Locale.ROOT, "jacobian %s of %s in %.3f s, max |J| = %s", shape(j), p.model().describe(),
                seconds, num(j.amaxNumber().doubleValue())));
        if (out != null) {
            out().println("wrote " + out + " " + shape(j));
        }
    }
}
