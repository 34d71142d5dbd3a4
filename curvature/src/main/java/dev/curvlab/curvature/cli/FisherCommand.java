package dev.curvlab.curvature.cli;

import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.inference.FisherInference;
import dev.curvlab.curvature.inference.FisherInference.SingularPolicy;
import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.curvature.operator.ObservedFisherOperator;
import java.nio.file.Path;
import java.util.Locale;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code curvlab fisher}: the observed Fisher information, and optionally standard errors. */
@Command(name = "fisher", sortOptions = false, usageHelpAutoWidth = true,
        description = {"Observed Fisher information [N, N]: the Hessian of the negative log-likelihood summed over the data"
                + " (no averaging).", "With --se, also the standard errors sqrt(diag(F^-1)) [N] (meaningful at a maximum-likelihood"
                + " estimate)."})
final class FisherCommand extends DenseMatrixCommand {
    @Option(names = "--se", order = 31, paramLabel = "FILE", description = "also write the standard errors sqrt(diag(F^-1)) [N] (float64 .npy)")
    Path se;

    @Option(names = "--pinv", order = 32, description = "with --se: use a pseudo-inverse when F is singular (dropped directions are reported)"
            + " instead of failing")
    boolean pinv;

    @Override
    protected String matrixName() {
        return "observed Fisher";
    }

    @Override
    protected CurvatureOperator operator(Problem p) {
        return new ObservedFisherOperator(p.model(), p.loss(), p.data(), p.theta(), p.batchSize());
    }

    @Override
    protected void checkOptions() {
        super.checkOptions();
        checkWritable(se, "--se");
        if (pinv && se == null) {
            throw usage("--pinv only applies with --se FILE");
        }
        if (se != null && out != null && se.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
            throw usage("--se and --out name the same file " + se);
        }
    }

    /** With --se, F and its inverse are held in memory together: refuse before the work when they cannot fit. */
    private void preflightStandardErrors(Problem p) {
        double n = p.parameterCount();
        ResourcePreflight.require(String.format(Locale.ROOT, "--se (the %d x %d observed Fisher and its inverse in memory)", (long) n, (long) n),
                3 * 8.0 * n * n + 64 * ResourcePreflight.perColumn(p), dense.budget(),
                "drop --se (the matrix alone can stream to --out), or use a smaller model");
        requireSpace(out, 8.0 * n * n + 128);
        requireSpace(se, 8.0 * n + 128);
    }

    @Override
    protected void run() throws Exception {
        if (se == null) {
            super.run();
            return;
        }
        // F must be inverted before anything is written: keep it in memory, write both files at the end.
        Problem p = Problem.load(model, targets);
        preflightStandardErrors(p);
        CurvatureOperator op = operator(p);
        FullHessian.Result r = compute(op, null);
        INDArray f = r.matrix();
        FisherInference.Covariance cov;
        try {
            cov = FisherInference.covariance(f, pinv ? SingularPolicy.PSEUDO_INVERSE : SingularPolicy.ERROR);
        } catch (IllegalStateException e) {
            throw new BadInputException(e.getMessage() + (pinv ? "" : " (curvlab: add --pinv for that)"), e);
        }
        INDArray errors = cov.standardErrors();
        if (out != null) {
            write(out, f);
        }
        write(se, errors);
        report(op.size(), r, out);
        out().println(String.format(Locale.ROOT, "standard errors: min %s, max %s%s", num(errors.minNumber().doubleValue()),
                num(errors.maxNumber().doubleValue()),
                cov.droppedDirections() > 0 ? ", " + cov.droppedDirections() + " singular direction(s) dropped by the pseudo-inverse" : ""));
        out().println("wrote " + se + " " + shape(errors));
    }
}
