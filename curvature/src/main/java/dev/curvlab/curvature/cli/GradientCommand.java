package dev.curvlab.curvature.cli;

import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Reduction;
import java.nio.file.Path;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code curvlab gradient}: the mean loss and its gradient [N]. */
@Command(name = "gradient", sortOptions = false, usageHelpAutoWidth = true,
        description = "Gradient [N] of the mean loss at the parameters; prints the loss and the gradient norm.")
final class GradientCommand extends CurvlabSubcommand {
    @Mixin
    ModelOptions model;

    @Mixin
    TargetOptions targets;

    @Mixin
    MemoryOption memory;

    @Option(names = "--out", order = 30, paramLabel = "FILE", description = "write the gradient [N] (float64 .npy)")
    Path out;

    @Override
    protected void checkOptions() {
        checkWritable(out, "--out");
    }

    @Override
    protected void run() throws Exception {
        Problem p = Problem.load(model, targets);
        ResourcePreflight.require("the gradient of N = " + p.parameterCount() + " parameters over batches of " + ResourcePreflight.rows(p)
                + " rows", ResourcePreflight.gradient(p), memory.budget(), "lower --batch-size");
        requireSpace(out, 8.0 * p.parameterCount() + 128);
        double[] loss = new double[1];
        INDArray g = meanLossGradient(p, loss);
        if (out != null) {
            write(out, g);
        }
        out().println("loss = " + num(loss[0]));
        out().println("gradient norm = " + num(g.norm2Number().doubleValue()) + " (N = " + g.length() + ")");
        if (out != null) {
            out().println("wrote " + out + " " + shape(g));
        }
    }

    /**
     * The gradient of the mean loss, batch by batch when --batch-size is set (sum of the batches'
     * summed-loss gradients over the mean normaliser); {@code loss[0]} receives the mean loss.
     */
    static INDArray meanLossGradient(Problem p, double[] loss) {
        Dataset d = p.data();
        int n = d.n();
        int b = p.batchSize() <= 0 || p.batchSize() >= n ? n : p.batchSize();
        if (b == n) {
            ModelObjective f = new ModelObjective(p.model(), p.loss(), d, Reduction.MEAN);
            loss[0] = f.value(p.theta());
            return f.gradient(p.theta());
        }
        double scale = 1.0 / p.loss().normalizer(n, p.model().outputSize());
        INDArray g = null;
        double sum = 0;
        for (int start = 0; start < n; start += b) {
            int end = Math.min(n, start + b);
            INDArray xb = d.x().get(NDArrayIndex.interval(start, end), NDArrayIndex.all()).dup('c');
            INDArray yb = (d.y().rank() == 1 ? d.y().get(NDArrayIndex.interval(start, end))
                    : d.y().get(NDArrayIndex.interval(start, end), NDArrayIndex.all())).dup('c');
            ModelObjective f = new ModelObjective(p.model(), p.loss(), xb, yb, Reduction.SUM);
            sum += f.value(p.theta());
            INDArray gb = f.gradient(p.theta());
            g = g == null ? gb.dup() : g.addi(gb);
        }
        loss[0] = sum * scale;
        return g.muli(scale);
    }
}
