package dev.curvlab.curvature.cli;

import dev.curvlab.curvature.operator.HessianOperator;
import java.nio.file.Path;
import java.util.Locale;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.BooleanIndexing;
import org.nd4j.linalg.indexing.conditions.Conditions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code curvlab hvp}: Hessian-vector products without forming the Hessian. */
@Command(name = "hvp", sortOptions = false, usageHelpAutoWidth = true,
        description = "Hessian-vector products H v of the mean loss (forward-over-reverse, the Hessian is never formed):"
                + " v [N] gives [N], a block V [N, k] gives [N, k].")
final class HvpCommand extends CurvlabSubcommand {
    @Mixin
    ModelOptions model;

    @Mixin
    TargetOptions targets;

    @Option(names = "--v", order = 10, required = true, paramLabel = "FILE", description = "direction(s) v [N] or V [N, k], .npy")
    Path v;

    @Mixin
    MemoryOption memory;

    @Option(names = "--out", order = 30, paramLabel = "FILE", description = "write H v, the shape of v (float64 .npy)")
    Path out;

    @Override
    protected void checkOptions() {
        checkWritable(out, "--out");
    }

    @Override
    protected void run() throws Exception {
        Problem p = Problem.load(model, targets);
        long n = p.parameterCount();
        INDArray vs = Problem.readArray(v, "--v");
        boolean vector = vs.rank() == 1;
        if (!(vector && vs.length() == n) && !(vs.rank() == 2 && vs.size(0) == n && vs.size(1) >= 1)) {
            throw new BadInputException(v + ": directions must be [" + n + "] or [" + n + ", k] for model " + p.model().describe()
                    + " (N = " + n + "), got shape " + shape(vs));
        }
        long bad = BooleanIndexing.firstIndex(vs, Conditions.notFinite()).getLong(0);
        if (bad >= 0) {
            throw new BadInputException(v + ": element " + bad + " is " + vs.data().getDouble(bad) + " (directions must be finite)");
        }
        long k = vector ? 1 : vs.size(1);
        ResourcePreflight.require(String.format(Locale.ROOT, "hvp of %d direction(s) (--v %s) for N = %d", k, v, n),
                8.0 * n * k * 2 + ResourcePreflight.directions(p, targets.engine, k), memory.budget(),
                "split --v into blocks of fewer columns, or lower --batch-size");
        requireSpace(out, 8.0 * n * k + 128);
        HessianOperator op = targets.configure(new HessianOperator(p.model(), p.loss(), p.data(), p.theta(), p.batchSize()));
        long t0 = System.nanoTime();
        INDArray hv = vector ? op.matvec(vs) : op.matmat(vs);
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (out != null) {
            write(out, hv);
        }
        out().println(String.format(Locale.ROOT, "hvp: N = %d, %d direction(s), %.3f s, |H v| = %s", n, vector ? 1 : vs.size(1), seconds,
                num(hv.norm2Number().doubleValue())));
        if (out != null) {
            out().println("wrote " + out + " " + shape(hv));
        }
    }
}
