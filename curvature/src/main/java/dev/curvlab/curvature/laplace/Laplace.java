package dev.curvlab.curvature.laplace;

import dev.curvlab.core.kernels.RawAccess;
import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.hessian.HessianTooLargeException;
import dev.curvlab.curvature.hessian.MemoryBudget;
import dev.curvlab.curvature.kfac.CurvatureDiagonal;
import dev.curvlab.curvature.kfac.DiagonalKind;
import dev.curvlab.curvature.kfac.Kfac;
import dev.curvlab.curvature.kfac.KfacFactors;
import dev.curvlab.curvature.kfac.ParametricLayers;
import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.curvature.operator.GgnOperator;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.curvature.progress.ProgressListener;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Dense;
import dev.curvlab.nn.model.Sequential;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The Laplace approximation around given (trained, MAP) parameters theta: prior
 * {@code theta ~ N(0, delta^-1 I)} (delta scalar or one per covered layer), posterior
 * {@code N(theta, P^-1)} with {@code P = C + delta I}, C the curvature of the <b>summed</b> NLL
 * (GGN by default, Hessian allowed) over the covered parameters ({@link Subset}) in a
 * {@link Structure}. The log marginal likelihood at theta is
 * <pre>
 *   log Z = log p(D | theta) - (delta / 2) |theta|^2 + (N / 2) log delta - (1/2) log det P
 * </pre>
 * (N covered parameters; per-layer delta sums the prior terms per layer), with
 * {@code log p(D | theta)} including the likelihood's constants ({@link Likelihood}). Curvature is
 * stored for the mean loss and scaled by {@code c = }{@link Likelihood#curvatureScale}, so for kron
 * layer l's precision is {@code c (A_l kron G_l) + delta_l I} with eigenvalues
 * {@code c lambda_A lambda_G + delta_l}. {@link #optimize} maximises log Z over log delta (and log
 * sigma for mse) at fixed theta. {@link GlmPredictive} gives the linearised predictive.
 */
public final class Laplace {
    private final Sequential model;
    private final INDArray theta;
    private final Likelihood likelihood;
    private final PosteriorPrecision precision;
    private final Subset subset;
    private final CurvatureType curvature;
    private final double[] priorPrecision;
    private final double sigma;
    private final double[] normsSquared;

    /**
     * @param priorPrecision one value for all covered layers, or one per covered layer
     * @param sigma the Gaussian noise of mse (ignored otherwise; use 1)
     * @param budget memory budget of the full structure's preflight
     */
    public record Options(Structure structure, Subset subset, CurvatureType curvature, double[] priorPrecision, double sigma,
            MemoryBudget budget) {
        public Options {
            for (double d : priorPrecision) {
                if (!(d > 0) || Double.isInfinite(d)) {
                    throw new IllegalArgumentException("prior precision must be positive and finite, got " + d);
                }
            }
            if (!(sigma > 0) || Double.isInfinite(sigma)) {
                throw new IllegalArgumentException("sigma must be positive and finite, got " + sigma);
            }
            if (structure == Structure.KRON && curvature == CurvatureType.HESSIAN) {
                throw new IllegalArgumentException("the kron structure approximates the GGN (KFAC); use --curvature ggn, or --structure full|diag"
                        + " for the Hessian");
            }
        }

        public static Options of(Structure structure, Subset subset, double priorPrecision) {
            return new Options(structure, subset, CurvatureType.GGN, new double[] {priorPrecision}, 1.0, MemoryBudget.defaultBudget());
        }

        public Options withSigma(double s) {
            return new Options(structure, subset, curvature, priorPrecision, s, budget);
        }
    }

    Laplace(Sequential model, INDArray theta, Likelihood likelihood, PosteriorPrecision precision, Subset subset, CurvatureType curvature,
            double[] priorPrecision, double sigma) {
        this.model = model;
        this.theta = theta;
        this.likelihood = likelihood;
        this.precision = precision;
        this.subset = subset;
        this.curvature = curvature;
        this.priorPrecision = expand(priorPrecision, precision.blocks());
        this.sigma = likelihood.hasSigma() ? sigma : 1.0;
        this.normsSquared = new double[precision.blocks()];
        long off = offset(model, subset.firstLayer(layerCount(model)));
        for (int b = 0; b < normsSquared.length; b++) {
            INDArray t = theta.get(NDArrayIndex.interval(off, off + precision.blockSize(b)));
            normsSquared[b] = t.mul(t).sumNumber().doubleValue();
            off += precision.blockSize(b);
        }
    }

    /** Fits the approximation: the curvature in the chosen structure, the likelihood at theta. */
    public static Laplace fit(Sequential model, Loss loss, Dataset data, INDArray theta, Options o, ProgressListener progress)
            throws IOException {
        if (!model.isDenseChain()) {
            return ModuleLaplace.fit(model, loss, data, theta, o, progress);
        }
        List<Dense> ls = model.layers();
        int first = o.subset().firstLayer(ls.size());
        int covered = ls.size() - first;
        if (o.priorPrecision().length != 1 && o.priorPrecision().length != covered) {
            throw new IllegalArgumentException("prior precision needs one value or one per covered layer (" + covered + "), got "
                    + o.priorPrecision().length);
        }
        long[] sizes = new long[covered];
        long[] widths = new long[covered];
        for (int l = first; l < ls.size(); l++) {
            sizes[l - first] = ls.get(l).parameterCount();
            widths[l - first] = ls.get(l).out();
        }
        long from = offset(model, first);
        long n = model.parameterCount() - from;
        Likelihood kronLikelihood = null;          // the kron pass sums the loss itself
        PosteriorPrecision p = switch (o.structure()) {
            case FULL -> {
                preflight(n, o.budget());
                CurvatureOperator op = o.curvature() == CurvatureType.GGN ? new GgnOperator(model, loss, data, theta, 0)
                        : new HessianOperator(model, loss, data, theta, 0);
                FullHessian.Options dense = FullHessian.Options.defaults().withBudget(o.budget()).withProgress(progress);
                INDArray c = FullHessian.compute(op, first == 0 ? dense : dense.withLayer(first)).matrix();
                yield new FullPrecision(c, sizes);
            }
            case KRON -> {
                Kfac.FactorsAndLoss fl = Kfac.computeWithLoss(model, loss, data, theta, Kfac.Options.exact(), first, progress);
                kronLikelihood = likelihoodOfSum(model, loss, data, fl.summedLoss());
                yield new KronPrecision(fl.factors().a(), fl.factors().g());
            }
            case DIAG -> {
                DiagonalKind kind = o.curvature() == CurvatureType.GGN ? DiagonalKind.GGN : DiagonalKind.HESSIAN;
                INDArray d = CurvatureDiagonal.compute(kind, model, loss, data, theta, 1, 0, progress);
                yield new DiagPrecision(d.get(NDArrayIndex.interval(from, model.parameterCount())).dup('c'), sizes, widths);
            }
        };
        Likelihood lik = kronLikelihood != null ? kronLikelihood : likelihood(model, loss, data, theta);
        return new Laplace(model, theta, lik, p, o.subset(), o.curvature(), o.priorPrecision(), o.sigma());
    }

    /**
     * The kron posterior from KFAC factors and a likelihood computed elsewhere over the same data (e.g.
     * summed over Spark partitions): exact-variant factors of the mean loss for the covered layers
     * ({@code o.subset()}), as {@link #fit} computes them with {@link Structure#KRON}.
     */
    public static Laplace ofKron(Sequential model, INDArray theta, Likelihood likelihood, KfacFactors factors, Options o) {
        int covered = model.layers().size() - o.subset().firstLayer(model.layers().size());
        if (o.structure() != Structure.KRON || factors.layers() != covered) {
            throw new IllegalArgumentException("a kron posterior needs --structure kron and factors of the " + covered + " covered layers, got "
                    + o.structure() + " and " + factors.layers());
        }
        return new Laplace(model, theta, likelihood, new KronPrecision(factors.a(), factors.g()), o.subset(), o.curvature(), o.priorPrecision(),
                o.sigma());
    }

    /** Refuses a dense posterior that cannot fit: the curvature, its eigenvectors and a work copy, 3 N^2 doubles. */
    static void preflight(long n, MemoryBudget budget) {
        double need = 3.0 * 8.0 * n * n;
        if (need > budget.bytes()) {
            throw new HessianTooLargeException(String.format(java.util.Locale.ROOT,
                    "a full Laplace posterior of N = %d parameters needs %s (the curvature and its eigenvectors, 3 N^2 x 8 bytes), more than"
                            + " the %s budget; use --structure kron (KFAC) or diag, or --subset last-layer",
                    n, MemoryBudget.format(need), MemoryBudget.format(budget.bytes())));
        }
    }

    static Likelihood likelihood(Sequential model, Loss loss, Dataset data, INDArray theta) {
        double summed = 0;
        int chunk = 4096;     // rows per forward pass: its intermediates stay small enough to be reused
        for (int start = 0; start < data.n(); start += chunk) {
            int end = Math.min(data.n(), start + chunk);
            INDArray x = rows(data.x(), start, end);
            INDArray y = rows(data.y(), start, end);
            summed += new ModelObjective(model, loss, x, y, Reduction.SUM).value(theta);
            x.close();
            y.close();
        }
        return likelihoodOfSum(model, loss, data, summed);
    }

    /** The likelihood from the summed loss at theta (computed elsewhere) and the loss's data constant. */
    static Likelihood likelihoodOfSum(Sequential model, Loss loss, Dataset data, double summed) {
        INDArray y = loss.prepare(data.y(), model.outputSize()).array();
        double constant = Likelihood.constantOf(loss, RawAccess.readAll(y.dup('c')), data.n(), model.outputSize());
        return new Likelihood(loss, data.n(), model.outputSize(), summed, constant);
    }

    /** Rows {@code [start, end)} of an array of any rank (images {@code [n, C, H, W]} too), as a C-order copy. */
    static INDArray rows(INDArray a, long start, long end) {
        org.nd4j.linalg.indexing.INDArrayIndex[] idx = new org.nd4j.linalg.indexing.INDArrayIndex[a.rank()];
        Arrays.fill(idx, NDArrayIndex.all());
        idx[0] = NDArrayIndex.interval(start, end);
        return a.get(idx).dup('c');
    }

    /** Layers with parameters ({@link ParametricLayers}; a dense chain's {@code layers()}). */
    static int layerCount(Sequential model) {
        return ParametricLayers.of(model).count();
    }

    /** Start of parametric layer {@code layer}'s parameters (N past the last). */
    static long offset(Sequential model, int layer) {
        ParametricLayers layers = ParametricLayers.of(model);
        return layer < layers.count() ? layers.get(layer).offset() : model.parameterCount();
    }

    private static double[] expand(double[] delta, int blocks) {
        if (delta.length == blocks) {
            return delta.clone();
        }
        if (delta.length != 1) {
            throw new IllegalArgumentException("prior precision needs one value or one per covered layer (" + blocks + "), got " + delta.length);
        }
        double[] out = new double[blocks];
        Arrays.fill(out, delta[0]);
        return out;
    }

    /** log Z at the current prior precision and sigma. */
    public double logMarginalLikelihood() {
        return logMarginalLikelihood(priorPrecision, sigma);
    }

    /** log Z at the given prior precision (one or one per covered layer) and sigma (mse). */
    public double logMarginalLikelihood(double[] delta, double noise) {
        double[] d = expand(delta, precision.blocks());
        double s = likelihood.hasSigma() ? noise : 1.0;
        double prior = 0;
        for (int b = 0; b < d.length; b++) {
            prior += -0.5 * d[b] * normsSquared[b] + 0.5 * precision.blockSize(b) * Math.log(d[b]);
        }
        return likelihood.logLikelihood(s) + prior - 0.5 * precision.logDet(likelihood.curvatureScale(s), d);
    }

    /** The same approximation with other hyper-parameters (the curvature is not recomputed). */
    public Laplace withHyperparameters(double[] delta, double noise) {
        return new Laplace(model, theta, likelihood, precision, subset, curvature, delta, noise);
    }

    /**
     * Maximises log Z over one scalar log delta (and log sigma when {@code withSigma} and the
     * likelihood has one), starting from the current values, at the fixed parameters.
     */
    public Laplace optimize(boolean withSigma) {
        boolean s = withSigma && likelihood.hasSigma();
        double d0 = Math.exp(Arrays.stream(priorPrecision).map(Math::log).average().orElse(0));
        double[] start = s ? new double[] {Math.log(d0), Math.log(sigma)} : new double[] {Math.log(d0)};
        double[] best = NelderMead.maximize(x -> {
            if (Math.abs(x[0]) > 50 || (s && Math.abs(x[1]) > 50)) {
                return Double.NEGATIVE_INFINITY;
            }
            return logMarginalLikelihood(new double[] {Math.exp(x[0])}, s ? Math.exp(x[1]) : sigma);
        }, start, 1.0, 1e-9, 2000);
        return withHyperparameters(new double[] {Math.exp(best[0])}, s ? Math.exp(best[1]) : sigma);
    }

    public double logLikelihood() {
        return likelihood.logLikelihood(sigma);
    }

    /** {@code log det P}. */
    public double logDetPrecision() {
        return precision.logDet(curvatureScale(), priorPrecision);
    }

    /** c at the current sigma. */
    public double curvatureScale() {
        return likelihood.curvatureScale(sigma);
    }

    public Sequential model() {
        return model;
    }

    public INDArray parameters() {
        return theta;
    }

    public Likelihood likelihood() {
        return likelihood;
    }

    public PosteriorPrecision precision() {
        return precision;
    }

    public Structure structure() {
        return precision.structure();
    }

    public Subset subset() {
        return subset;
    }

    public CurvatureType curvature() {
        return curvature;
    }

    /** One value per covered layer. */
    public double[] priorPrecision() {
        return priorPrecision.clone();
    }

    public double sigma() {
        return sigma;
    }

    /** The first covered layer. */
    public int firstLayer() {
        return subset.firstLayer(layerCount(model));
    }

    /** Number of covered parameters. */
    public long parameterCount() {
        return precision.size();
    }
}
