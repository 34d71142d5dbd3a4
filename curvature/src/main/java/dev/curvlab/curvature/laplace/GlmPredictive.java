package dev.curvlab.curvature.laplace;

import dev.curvlab.core.kernels.RawAccess;
import dev.curvlab.curvature.kfac.LayerJacobians;
import dev.curvlab.curvature.progress.ProgressListener;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The linearised (GLM) predictive of a {@link Laplace} posterior: {@code f* ~ N(f(x*), J* P^-1 J*^T)}
 * with {@code J*} the Jacobian of the outputs in the covered parameters. Regression (mse) adds the
 * noise: mean {@code f(x*)}, variance {@code diag(J P^-1 J^T) + sigma^2}. Classification by the
 * probit approximation {@code p = softmax(mu_k / sqrt(1 + (pi / 8) var_k))} (ce; sigmoid for bce),
 * or by averaging softmax (sigmoid) over seeded samples of f*. Other losses: mean and variance of f*.
 */
public final class GlmPredictive {
    /** Test inputs per chunk. */
    public static final int CHUNK = 512;

    private GlmPredictive() {
    }

    /**
     * @param mean class probabilities {@code [n, classes]} (ce), {@code [n, out]} (bce), or the regression mean
     * @param variance {@code [n, out]}: regression {@code J P^-1 J^T + sigma^2}, otherwise the variance of f*
     * @param covariance {@code [n, out, out]}: {@code J P^-1 J^T}
     */
    public record Prediction(INDArray mean, INDArray variance, INDArray covariance) {
    }

    /** @param mcSamples 0 for the probit approximation, else the number of seeded samples of f* */
    public static Prediction predict(Laplace laplace, INDArray x, int mcSamples, long seed, ProgressListener progress) {
        long n = x.size(0);
        long out = laplace.model().outputSize();
        INDArray mean = Nd4j.create(DataType.DOUBLE, n, out);
        INDArray var = Nd4j.create(DataType.DOUBLE, n, out);
        INDArray cov = Nd4j.create(DataType.DOUBLE, n, out, out);
        double c = laplace.curvatureScale();
        double[] delta = laplace.priorPrecision();
        String loss = laplace.likelihood().loss().name();
        SplittableRandom rng = new SplittableRandom(seed);
        for (long start = 0; start < n; start += CHUNK) {
            long end = Math.min(n, start + CHUNK);
            INDArray xc = Laplace.rows(x, start, end);
            LayerJacobians jac = null;
            INDArray f;
            INDArray sigmaF;
            if (laplace.model().isDenseChain()) {
                jac = LayerJacobians.of(laplace.model(), laplace.parameters(), xc, laplace.firstLayer());
                f = jac.outputs();
                sigmaF = laplace.precision().functionalCovariance(jac, laplace.firstLayer(), c, delta);
            } else {
                INDArray[] fc = ModuleLaplace.predictive(laplace, xc);
                f = fc[0];
                sigmaF = fc[1];
            }
            INDArray diag = diagonals(sigmaF);
            INDArray m;
            INDArray v = diag;
            switch (loss) {
                case "ce" -> m = mcSamples > 0 ? sampled(f, sigmaF, mcSamples, rng, true) : softmax(probit(f, diag));
                case "bce" -> m = mcSamples > 0 ? sampled(f, sigmaF, mcSamples, rng, false)
                        : org.nd4j.linalg.ops.transforms.Transforms.sigmoid(probit(f, diag), false);
                case "mse" -> {
                    m = f;
                    v = diag.add(laplace.sigma() * laplace.sigma());
                }
                default -> m = f;
            }
            mean.get(NDArrayIndex.interval(start, end), NDArrayIndex.all()).assign(m);
            var.get(NDArrayIndex.interval(start, end), NDArrayIndex.all()).assign(v);
            copyRows(sigmaF, cov, start * out * out);
            if (jac != null) {
                jac.free();
            }
            progress.progress("predictive", end, n);
        }
        return new Prediction(mean, var, cov);
    }

    /** {@code dst[flat ..] = chunk} as one contiguous copy (a strided N-d assign costs ~30 ns per element here). */
    private static void copyRows(INDArray chunk, INDArray dst, long flat) {
        INDArray c = RawAccess.isWholeDouble(chunk) ? chunk : chunk.dup('c');
        RawAccess.write(dst, flat, RawAccess.readAll(c), 0, Math.toIntExact(c.length()));
    }

    /** {@code mu / sqrt(1 + (pi / 8) var)}. */
    static INDArray probit(INDArray mu, INDArray var) {
        INDArray k = org.nd4j.linalg.ops.transforms.Transforms.sqrt(var.mul(Math.PI / 8).addi(1.0), false);
        return mu.div(k);
    }

    static INDArray softmax(INDArray logits) {
        return org.nd4j.linalg.ops.transforms.Transforms.softmax(logits, true);
    }

    /** The diagonals of {@code [S, out, out]} as {@code [S, out]}. */
    static INDArray diagonals(INDArray cov) {
        INDArray c = cov.dup('c');
        long s = c.size(0);
        long out = c.size(1);
        return Nd4j.create(c.data(), new long[] {s, out}, new long[] {out * out, out + 1}, 0, 'c').dup('c');
    }

    /** Mean of softmax (or sigmoid) over samples {@code f* = mu + L z}, {@code L L^T = Sigma} (semi-definite Cholesky). */
    static INDArray sampled(INDArray mu, INDArray sigma, int samples, SplittableRandom rng, boolean softmax) {
        int s = (int) mu.size(0);
        int out = (int) mu.size(1);
        double[] m = RawAccess.readAll(mu.dup('c'));
        double[] cv = RawAccess.readAll(sigma.dup('c'));
        double[] result = new double[s * out];
        double[] l = new double[out * out];
        double[] fs = new double[out];
        double[] z = new double[out];
        for (int i = 0; i < s; i++) {
            cholesky(cv, i * out * out, out, l);
            for (int t = 0; t < samples; t++) {
                for (int j = 0; j < out; j++) {
                    z[j] = gaussian(rng);
                }
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < out; j++) {
                    double v = m[i * out + j];
                    for (int k = 0; k <= j; k++) {
                        v += l[j * out + k] * z[k];
                    }
                    fs[j] = v;
                    max = Math.max(max, v);
                }
                if (softmax) {
                    double total = 0;
                    for (int j = 0; j < out; j++) {
                        fs[j] = Math.exp(fs[j] - max);
                        total += fs[j];
                    }
                    for (int j = 0; j < out; j++) {
                        result[i * out + j] += fs[j] / total / samples;
                    }
                } else {
                    for (int j = 0; j < out; j++) {
                        result[i * out + j] += 1 / (1 + Math.exp(-fs[j])) / samples;
                    }
                }
            }
        }
        return Nd4j.create(result, new long[] {s, out}, DataType.DOUBLE);
    }

    /** Lower-triangular L with {@code L L^T = A} for a positive semi-definite A (non-positive pivots give zero columns). */
    static void cholesky(double[] a, int off, int n, double[] l) {
        java.util.Arrays.fill(l, 0.0);
        for (int j = 0; j < n; j++) {
            double d = a[off + j * n + j];
            for (int k = 0; k < j; k++) {
                d -= l[j * n + k] * l[j * n + k];
            }
            double ljj = d > 1e-300 ? Math.sqrt(d) : 0.0;
            l[j * n + j] = ljj;
            for (int i = j + 1; i < n; i++) {
                double v = a[off + i * n + j];
                for (int k = 0; k < j; k++) {
                    v -= l[i * n + k] * l[j * n + k];
                }
                l[i * n + j] = ljj > 0 ? v / ljj : 0.0;
            }
        }
    }

    private static double gaussian(SplittableRandom rng) {
        double u = rng.nextDouble();
        double v = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }
}
