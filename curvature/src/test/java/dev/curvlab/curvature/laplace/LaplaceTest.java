package dev.curvlab.curvature.laplace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.Autodiff;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.curvature.hessian.HessianTooLargeException;
import dev.curvlab.curvature.hessian.MemoryBudget;
import dev.curvlab.curvature.progress.ProgressListener;
import dev.curvlab.curvature.spectrum.SymmetricEigen;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The Laplace approximation against closed forms: Bayesian linear regression (exact evidence and
 * predictive), logistic regression (precision and evidence by hand), and the structures' log
 * determinants, solves and functional covariances against dense matrices and engine Jacobians.
 */
class LaplaceTest {
    static final int N = 30;

    /** {@code [X, 1]}. */
    static INDArray augmented(INDArray x) {
        return Nd4j.hstack(x, Nd4j.ones(DataType.DOUBLE, x.size(0), 1));
    }

    static INDArray inverse(INDArray a) {
        SymmetricEigen.Decomposition d = SymmetricEigen.decompose(a);
        INDArray v = d.vectors();
        INDArray inv = Nd4j.create(d.values(), new long[] {1, d.values().length}, DataType.DOUBLE).rdivi(1.0);
        return v.mulRowVector(inv).mmul(v.transpose());
    }

    static double logDet(INDArray a) {
        double s = 0;
        for (double v : SymmetricEigen.eigenvalues(a)) {
            s += Math.log(v);
        }
        return s;
    }

    /** Bayesian linear regression: data, MAP W~ [in+1, out] flattened row-major (curvlab's layout). */
    record Blr(Sequential model, Dataset data, INDArray theta, INDArray xa) {
    }

    static Blr blr(double sigma, double delta) {
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.randn(DataType.DOUBLE, N, 3);
        INDArray w = Nd4j.randn(DataType.DOUBLE, 4, 2);
        INDArray xa = augmented(x);
        INDArray y = xa.mmul(w).addi(Nd4j.randn(DataType.DOUBLE, N, 2).muli(sigma));
        INDArray map = inverse(xa.transpose().mmul(xa).addi(Nd4j.eye(4).castTo(DataType.DOUBLE).muli(sigma * sigma * delta)))
                .mmul(xa.transpose()).mmul(y);
        Sequential model = Sequential.mlp(new int[] {3, 2}, Activation.IDENTITY);
        return new Blr(model, new Dataset(x, y), map.dup('c').reshape('c', new long[] {8}), xa);
    }

    /** {@code sum_columns log N(y_col | 0, sigma^2 I + delta^-1 X~ X~^T)}. */
    static double exactEvidence(Blr b, double sigma, double delta) {
        INDArray cov = b.xa().mmul(b.xa().transpose()).divi(delta).addi(Nd4j.eye(N).castTo(DataType.DOUBLE).muli(sigma * sigma));
        INDArray inv = inverse(cov);
        double ld = logDet(cov);
        double total = 0;
        for (int k = 0; k < 2; k++) {
            INDArray yk = b.data().y().getColumn(k).reshape(N, 1);
            double quad = yk.transpose().mmul(inv).mmul(yk).getDouble(0);
            total += -0.5 * quad - 0.5 * ld - 0.5 * N * Math.log(2 * Math.PI);
        }
        return total;
    }

    static Laplace fit(Sequential model, Loss loss, Dataset data, INDArray theta, Structure s, Subset subset, double delta, double sigma)
            throws Exception {
        return Laplace.fit(model, loss, data, theta, Laplace.Options.of(s, subset, delta).withSigma(sigma), ProgressListener.NONE);
    }

    @Test
    void bayesianLinearRegressionEvidenceIsExact() throws Exception {
        double sigma = 0.7;
        double delta = 2.3;
        Blr b = blr(sigma, delta);
        double want = exactEvidence(b, sigma, delta);
        for (Structure s : new Structure[] {Structure.FULL, Structure.KRON}) {
            Laplace la = fit(b.model(), Losses.MSE, b.data(), b.theta(), s, Subset.ALL, delta, sigma);
            assertEquals(want, la.logMarginalLikelihood(), 1e-9 * Math.abs(want), s.id());
        }
    }

    @Test
    void bayesianLinearRegressionPredictiveIsExact() throws Exception {
        double sigma = 0.4;
        double delta = 0.8;
        Blr b = blr(sigma, delta);
        INDArray xs = Nd4j.randn(DataType.DOUBLE, 5, 3);
        INDArray xsa = augmented(xs);
        INDArray posteriorCov = inverse(b.xa().transpose().mmul(b.xa()).divi(sigma * sigma).addi(Nd4j.eye(4).castTo(DataType.DOUBLE).muli(delta)));
        INDArray wantMean = xsa.mmul(b.theta().reshape('c', new long[] {4, 2}));
        INDArray wantVar = Nd4j.diag(xsa.mmul(posteriorCov).mmul(xsa.transpose())).reshape(5, 1).addi(sigma * sigma);
        for (Structure s : new Structure[] {Structure.FULL, Structure.KRON}) {
            Laplace la = fit(b.model(), Losses.MSE, b.data(), b.theta(), s, Subset.ALL, delta, sigma);
            GlmPredictive.Prediction p = GlmPredictive.predict(la, xs, 0, 0, ProgressListener.NONE);
            assertTrue(p.mean().equalsWithEps(wantMean, Tolerances.CLOSED_FORM), s.id() + " mean");
            for (int k = 0; k < 2; k++) {
                INDArray got = p.variance().getColumn(k).reshape(5, 1);
                assertTrue(got.equalsWithEps(wantVar, Tolerances.CLOSED_FORM), s.id() + " variance " + got + " vs " + wantVar);
            }
        }
    }

    @Test
    void optimizeFindsTheMaximiserOfTheEvidence() throws Exception {
        Blr b = blr(0.5, 1.0);
        for (Structure s : new Structure[] {Structure.FULL, Structure.KRON, Structure.DIAG}) {
            Laplace la = fit(b.model(), Losses.MSE, b.data(), b.theta(), s, Subset.ALL, 1.0, 1.0).optimize(true);
            double ld = Math.log(la.priorPrecision()[0]);
            double ls = Math.log(la.sigma());
            double h = 1e-4;
            double best = la.logMarginalLikelihood();
            double dd = (eval(la, ld + h, ls) - eval(la, ld - h, ls)) / (2 * h);
            double ds = (eval(la, ld, ls + h) - eval(la, ld, ls - h)) / (2 * h);
            assertEquals(0, dd, 1e-4, s.id() + " d logZ / d log delta at the optimum");
            assertEquals(0, ds, 1e-4, s.id() + " d logZ / d log sigma at the optimum");
            for (double[] step : new double[][] {{0.1, 0}, {-0.1, 0}, {0, 0.1}, {0, -0.1}}) {
                assertTrue(best >= eval(la, ld + step[0], ls + step[1]));
            }
        }
        // delta alone, sigma fixed at the start value
        Laplace la = fit(b.model(), Losses.MSE, b.data(), b.theta(), Structure.FULL, Subset.ALL, 1.0, 0.5).optimize(false);
        assertEquals(0.5, la.sigma(), 0.0);
        double ld = Math.log(la.priorPrecision()[0]);
        assertEquals(0, (eval(la, ld + 1e-4, Math.log(0.5)) - eval(la, ld - 1e-4, Math.log(0.5))) / 2e-4, 1e-4);
    }

    private static double eval(Laplace la, double logDelta, double logSigma) {
        return la.logMarginalLikelihood(new double[] {Math.exp(logDelta)}, Math.exp(logSigma));
    }

    @Test
    void logisticRegressionFullAndDiagonalLaplaceByHand() throws Exception {
        Nd4j.getRandom().setSeed(8);
        INDArray x = Nd4j.randn(DataType.DOUBLE, 50, 2);
        INDArray xa = augmented(x);
        INDArray prob = Transforms.sigmoid(xa.mmul(Nd4j.create(new double[][] {{1.5}, {-1.0}, {0.3}})), true);
        java.util.Random r = new java.util.Random(8);
        INDArray y = Nd4j.create(IntStream.range(0, 50).mapToDouble(i -> r.nextDouble() < prob.getDouble(i, 0) ? 1 : 0).toArray(),
                new long[] {50, 1}, DataType.DOUBLE);
        double delta = 0.9;
        // MAP by Newton's method
        INDArray w = Nd4j.zeros(DataType.DOUBLE, 3, 1);
        for (int it = 0; it < 30; it++) {
            INDArray p = Transforms.sigmoid(xa.mmul(w), true);
            INDArray grad = xa.transpose().mmul(p.sub(y)).addi(w.mul(delta));
            INDArray h = xa.transpose().mmul(xa.mulColumnVector(p.mul(p.rsub(1.0)))).addi(Nd4j.eye(3).castTo(DataType.DOUBLE).muli(delta));
            w.subi(inverse(h).mmul(grad));
        }
        INDArray p = Transforms.sigmoid(xa.mmul(w), true);
        INDArray precision = xa.transpose().mmul(xa.mulColumnVector(p.mul(p.rsub(1.0)))).addi(Nd4j.eye(3).castTo(DataType.DOUBLE).muli(delta));
        double logLik = y.mul(Transforms.log(p, true)).addi(y.rsub(1.0).mul(Transforms.log(p.rsub(1.0), true))).sumNumber().doubleValue();
        double norm = w.mul(w).sumNumber().doubleValue();
        double wantFull = logLik - 0.5 * delta * norm + 1.5 * Math.log(delta) - 0.5 * logDet(precision);
        double diagLogDet = Transforms.log(Nd4j.diag(precision), true).sumNumber().doubleValue();
        double wantDiag = logLik - 0.5 * delta * norm + 1.5 * Math.log(delta) - 0.5 * diagLogDet;

        Sequential model = Sequential.mlp(new int[] {2, 1}, Activation.IDENTITY);
        Dataset data = new Dataset(x, y);
        INDArray theta = w.reshape('c', new long[] {3}).dup('c');
        Laplace full = fit(model, Losses.BCE, data, theta, Structure.FULL, Subset.ALL, delta, 1.0);
        assertTrue(full.precision().dense(full.curvatureScale(), new double[] {delta}).equalsWithEps(precision, 1e-10));
        assertEquals(logLik, full.logLikelihood(), 1e-10 * Math.abs(logLik));
        assertEquals(wantFull, full.logMarginalLikelihood(), 1e-10 * Math.abs(wantFull));
        Laplace diag = fit(model, Losses.BCE, data, theta, Structure.DIAG, Subset.ALL, delta, 1.0);
        assertEquals(wantDiag, diag.logMarginalLikelihood(), 1e-10 * Math.abs(wantDiag));
    }

    @Test
    void structuresSolveAndDetermineLikeTheirDenseMatrices() throws Exception {
        Sequential model = Sequential.mlp(new int[] {3, 5, 4}, Activation.TANH);
        Nd4j.getRandom().setSeed(21);
        INDArray x = Nd4j.randn(DataType.DOUBLE, 25, 3);
        INDArray y = Nd4j.create(IntStream.range(0, 25).mapToDouble(i -> i % 4).toArray(), new long[] {25}, DataType.DOUBLE);
        Dataset data = new Dataset(x, y);
        INDArray theta = model.initialParameters(4);
        INDArray xs = Nd4j.randn(DataType.DOUBLE, 6, 3);
        for (Subset subset : Subset.values()) {
            int first = subset.firstLayer(2);
            long from = first == 0 ? 0 : 20;
            double[] delta = subset == Subset.ALL ? new double[] {0.7, 1.9} : new double[] {1.3};
            // engine Jacobian of the outputs in all parameters: [6, 4, N], then the covered columns
            INDArray jAll = Autodiff.jacrev(t -> model.forward(t, Tensor.of(xs))).apply(Tensor.of(theta)).array();
            INDArray j = jAll.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(from, 44)).dup('c');
            for (Structure s : Structure.values()) {
                Laplace la = Laplace.fit(model, Losses.CROSS_ENTROPY, data, theta,
                        new Laplace.Options(s, subset, CurvatureType.GGN, delta, 1.0, MemoryBudget.defaultBudget()), ProgressListener.NONE);
                PosteriorPrecision pp = la.precision();
                double c = la.curvatureScale();
                INDArray dense = pp.dense(c, delta);
                assertEquals(logDet(dense), pp.logDet(c, delta), 1e-9 * Math.abs(logDet(dense)), s.id() + " log det");
                INDArray v = Nd4j.randn(DataType.DOUBLE, pp.size(), 3);
                INDArray solved = pp.solve(v, c, delta);
                assertTrue(dense.mmul(solved).equalsWithEps(v, 1e-9), s.id() + " solve");
                INDArray inv = inverse(dense);
                INDArray cov = la.precision().functionalCovariance(
                        dev.curvlab.curvature.kfac.LayerJacobians.of(model, theta, xs, first), first, c, delta);
                for (int i = 0; i < 6; i++) {
                    INDArray ji = j.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all());
                    INDArray want = ji.mmul(inv).mmul(ji.transpose());
                    INDArray got = cov.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all());
                    assertTrue(got.equalsWithEps(want, 1e-10 * Math.max(1, want.amaxNumber().doubleValue())),
                            s.id() + "/" + subset.id() + " covariance of input " + i);
                }
            }
        }
    }

    @Test
    void probitAndSampledPredictivesAgreeForSmallVariance() throws Exception {
        Sequential model = Sequential.mlp(new int[] {3, 5, 4}, Activation.TANH);
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.randn(DataType.DOUBLE, 25, 3);
        INDArray y = Nd4j.create(IntStream.range(0, 25).mapToDouble(i -> i % 4).toArray(), new long[] {25}, DataType.DOUBLE);
        INDArray theta = model.initialParameters(4);
        Laplace la = fit(model, Losses.CROSS_ENTROPY, new Dataset(x, y), theta, Structure.KRON, Subset.ALL, 1.0, 1.0);
        INDArray xs = Nd4j.randn(DataType.DOUBLE, 7, 3);
        GlmPredictive.Prediction probit = GlmPredictive.predict(la, xs, 0, 0, ProgressListener.NONE);
        GlmPredictive.Prediction mc = GlmPredictive.predict(la, xs, 20000, 1, ProgressListener.NONE);
        assertTrue(probit.mean().sum(1).equalsWithEps(Nd4j.ones(DataType.DOUBLE, 7), 1e-12));
        assertTrue(mc.mean().sum(1).equalsWithEps(Nd4j.ones(DataType.DOUBLE, 7), 1e-12));
        // the probit approximation is close to the sampled predictive (not identical); MC error ~ 1/sqrt(20000)
        assertTrue(probit.mean().sub(mc.mean()).amaxNumber().doubleValue() < 0.03);
        // with a huge prior precision the predictive is the MAP's softmax
        Laplace sharp = la.withHyperparameters(new double[] {1e12}, 1.0);
        INDArray map = Transforms.softmax(model.predict(theta, xs), true);
        assertTrue(GlmPredictive.predict(sharp, xs, 200, 1, ProgressListener.NONE).mean().equalsWithEps(map, 1e-5));
        // and the variance grows as the prior precision falls
        double wide = la.withHyperparameters(new double[] {0.01}, 1.0).logMarginalLikelihood();
        assertTrue(Double.isFinite(wide));
        assertTrue(GlmPredictive.predict(la.withHyperparameters(new double[] {0.01}, 1.0), xs, 0, 0, ProgressListener.NONE).variance()
                .sumNumber().doubleValue() > probit.variance().sumNumber().doubleValue());
    }

    @Test
    void aMillionParameterModelIsRefusedDenseAndPointedToKron() {
        Sequential big = Sequential.mlp(new int[] {784, 1000, 500, 10}, Activation.TANH);
        INDArray theta = Nd4j.zeros(DataType.DOUBLE, big.parameterCount());
        Dataset d = new Dataset(Nd4j.zeros(DataType.DOUBLE, 2, 784), Nd4j.zeros(DataType.DOUBLE, 2));
        MemoryBudget budget = MemoryBudget.of(16L << 30);
        HessianTooLargeException dense = assertThrows(HessianTooLargeException.class, () -> dev.curvlab.curvature.hessian.FullHessian.compute(
                new dev.curvlab.curvature.operator.HessianOperator(big, Losses.CROSS_ENTROPY, d, theta, 0),
                dev.curvlab.curvature.hessian.FullHessian.Options.defaults().withBudget(budget)));
        assertTrue(dense.getMessage().contains("--structure kron"), dense.getMessage());
        HessianTooLargeException full = assertThrows(HessianTooLargeException.class, () -> Laplace.fit(big, Losses.CROSS_ENTROPY, d, theta,
                new Laplace.Options(Structure.FULL, Subset.ALL, CurvatureType.GGN, new double[] {1}, 1, budget), ProgressListener.NONE));
        assertTrue(full.getMessage().contains("--structure kron"), full.getMessage());
    }

    @Test
    void savedPosteriorsReloadWithTheSameEvidenceAndPredictive(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        Sequential model = Sequential.mlp(new int[] {3, 5, 4}, Activation.TANH);
        Nd4j.getRandom().setSeed(13);
        INDArray x = Nd4j.randn(DataType.DOUBLE, 20, 3);
        INDArray y = Nd4j.create(IntStream.range(0, 20).mapToDouble(i -> i % 4).toArray(), new long[] {20}, DataType.DOUBLE);
        INDArray theta = model.initialParameters(6);
        INDArray xs = Nd4j.randn(DataType.DOUBLE, 5, 3);
        for (Structure s : Structure.values()) {
            for (Subset subset : Subset.values()) {
                double[] delta = subset == Subset.ALL ? new double[] {0.4, 2.5} : new double[] {0.8};
                Laplace la = Laplace.fit(model, Losses.CROSS_ENTROPY, new Dataset(x, y), theta,
                        new Laplace.Options(s, subset, CurvatureType.GGN, delta, 1.0, MemoryBudget.defaultBudget()), ProgressListener.NONE);
                java.nio.file.Path d = java.nio.file.Files.createDirectories(dir.resolve(s.id() + "-" + subset.id()));
                LaplaceFiles.save(d, la);
                Laplace back = LaplaceFiles.load(d);
                assertEquals(la.logMarginalLikelihood(), back.logMarginalLikelihood(), 1e-12 * Math.abs(la.logMarginalLikelihood()), s.id());
                assertTrue(GlmPredictive.predict(back, xs, 0, 0, ProgressListener.NONE).covariance()
                        .equalsWithEps(GlmPredictive.predict(la, xs, 0, 0, ProgressListener.NONE).covariance(), 1e-12), s.id() + "/" + subset.id());
            }
        }
        // the last layer's factors alone equal those of the whole pass
        dev.curvlab.curvature.kfac.KfacFactors all = dev.curvlab.curvature.kfac.Kfac.compute(model, Losses.CROSS_ENTROPY, new Dataset(x, y), theta,
                dev.curvlab.curvature.kfac.Kfac.Options.exact());
        dev.curvlab.curvature.kfac.KfacFactors last = dev.curvlab.curvature.kfac.Kfac.compute(model, Losses.CROSS_ENTROPY, new Dataset(x, y), theta,
                dev.curvlab.curvature.kfac.Kfac.Options.exact(), 1, ProgressListener.NONE);
        assertEquals(1, last.layers());
        assertTrue(last.a().get(0).equalsWithEps(all.a().get(1), 1e-14) && last.g().get(0).equalsWithEps(all.g().get(1), 1e-14));
    }

    @Test
    void fullStructurePreflightPointsToKron() {
        HessianTooLargeException e = assertThrows(HessianTooLargeException.class, () -> Laplace.preflight(1_000_000, MemoryBudget.of(1L << 30)));
        assertTrue(e.getMessage().contains("--structure kron"), e.getMessage());
    }
}
