package dev.curvlab.spark.cli;

import dev.curvlab.spark.data.HadoopFiles;
import dev.curvlab.spark.data.InvalidDataException;
import dev.curvlab.spark.operator.DistributedOperator;
import dev.curvlab.spark.operator.OperatorKind;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.spark.api.java.JavaSparkContext;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code curvlab-spark hvp}: Hessian-vector products over all partitions. */
@Command(name = "hvp", sortOptions = false, usageHelpAutoWidth = true,
        description = "Hessian-vector products H v [N] (or H V [N, k]) of the mean loss, summed over the data's partitions.")
final class HvpCommand extends SparkSubcommand {
    @Option(names = "--v", order = 10, required = true, paramLabel = "FILE", description = "direction(s) v [N] or V [N, k], .npy")
    String v;

    @Option(names = "--out", order = 30, paramLabel = "FILE", description = "write H v, the shape of v (float64 .npy)")
    Path out;

    @Override
    protected void checkOptions() {
        checkWritable(out, "--out");
    }

    @Override
    protected void run(JavaSparkContext sc, SparkProblem p) throws Exception {
        long n = p.parameterCount();
        INDArray vs;
        try {
            vs = HadoopFiles.readNpy(v);
        } catch (java.io.FileNotFoundException | java.nio.file.NoSuchFileException e) {
            throw new InvalidDataException(v + ": file does not exist (--v)", e);
        }
        boolean vector = vs.rank() == 1;
        if (!(vector && vs.length() == n) && !(vs.rank() == 2 && vs.size(0) == n && vs.size(1) >= 1)) {
            throw new InvalidDataException(v + ": directions must be [" + n + "] or [" + n + ", k], got shape " + shape(vs));
        }
        try (DistributedOperator op = new DistributedOperator(sc, p.data(), OperatorKind.HESSIAN, p.spec(), p.theta(), p.batchSize())) {
            long t0 = System.nanoTime();
            INDArray hv = vector ? op.matvec(vs) : op.matmat(vs);
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (out != null) {
                write(out, hv);
            }
            out().println(String.format(Locale.ROOT, "hvp: N = %d, %d direction(s), %d partitions, %.3f s, |H v| = %s", n, vector ? 1 : vs.size(1),
                    p.data().partitions(), seconds, hv.norm2Number().doubleValue()));
            if (out != null) {
                out().println("wrote " + out + " " + shape(hv));
            }
        }
    }
}
