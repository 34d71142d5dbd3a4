package dev.curvlab.spark.cli;

import dev.curvlab.curvature.inference.FisherInference;
import dev.curvlab.spark.data.InvalidDataException;
import dev.curvlab.spark.hessian.HessianBands;
import dev.curvlab.spark.operator.OperatorKind;
import java.nio.file.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code curvlab-spark fisher}: the observed Fisher information, and with --se the standard errors. */
@Command(name = "fisher", sortOptions = false, usageHelpAutoWidth = true,
        description = "The observed Fisher information [N, N] (Hessian of the summed NLL) as row bands; --se writes sqrt(diag(F^-1)).")
final class FisherCommand extends DenseCommand {
    @Option(names = "--se", order = 32, paramLabel = "FILE", description = "also write the standard errors sqrt(diag(F^-1)) [N] (float64 .npy)")
    Path se;

    @Option(names = "--pinv", order = 33, description = "with --se: a pseudo-inverse when F is singular, instead of failing")
    boolean pinv;

    @Override
    protected OperatorKind kind() {
        return OperatorKind.OBSERVED_FISHER;
    }

    @Override
    protected boolean needsMatrixOutput() {
        return se == null;
    }

    @Override
    protected void checkOptions() {
        super.checkOptions();
        checkWritable(se, "--se");
        if (pinv && se == null) {
            throw usage("--pinv only applies with --se FILE");
        }
    }

    @Override
    protected void run(JavaSparkContext sc, SparkProblem p) throws Exception {
        if (se == null) {
            super.run(sc, p);
            return;
        }
        boolean scratch = out == null && outDir == null;
        if (scratch) {
            outDir = se.toAbsolutePath() + ".bands";
        }
        try {
            HessianBands bands = computeBands(sc, p);
            INDArray f = bands.matrix(budget);
            FisherInference.Covariance cov;
            try {
                cov = FisherInference.covariance(f, pinv ? FisherInference.SingularPolicy.PSEUDO_INVERSE : FisherInference.SingularPolicy.ERROR);
            } catch (IllegalStateException e) {
                throw new InvalidDataException(e.getMessage() + (pinv ? "" : " (curvlab-spark: add --pinv for that)"), e);
            }
            finish(bands);
            write(se, cov.standardErrors());
            out().println("standard errors: min " + cov.standardErrors().minNumber() + ", max " + cov.standardErrors().maxNumber()
                    + (cov.droppedDirections() > 0 ? ", " + cov.droppedDirections() + " singular direction(s) dropped" : ""));
            out().println("wrote " + se + " " + shape(cov.standardErrors()));
        } finally {
            if (scratch) {
                dev.curvlab.spark.data.HadoopFiles.deleteRecursively(outDir);
            }
        }
    }
}
