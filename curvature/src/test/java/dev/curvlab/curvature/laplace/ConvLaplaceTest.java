package dev.curvlab.curvature.laplace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.Autodiff;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.kfac.Kfac;
import dev.curvlab.curvature.kfac.KfacFactors;
import dev.curvlab.curvature.operator.GgnOperator;
import dev.curvlab.curvature.progress.ProgressListener;
import dev.curvlab.curvature.spectrum.SymmetricEigen;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The Laplace approximation of a CNN (kron from KFC, diag, full; all and last layer) against the
 * dense matrices: P from the KFAC factors' flat-order blocks and from the engine's GGN
 * (GgnOperator + FullHessian), log det and solves by a dense eigen-decomposition, the evidence
 * formula by hand, and the GLM covariance {@code J P^-1 J^T} with the engine's Jacobian.
 */
class ConvLaplaceTest {
    static final int N = 96;

    static Sequential cnn() {
        return Sequential.imageBuilder(2, 4, 4).conv2d(3, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, Activation.TANH)
                .maxPool2d(new int[] {2, 2}, new int[] {2, 2}).flatten().dense(3, Activation.IDENTITY).build();
    }

    static Dataset data(int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.randn(DataType.DOUBLE, n, 2, 4, 4);
        INDArray y = Nd4j.create(IntStream.range(0, n).mapToDouble(i -> (i * 7 + seed) % 3).toArray(), new long[] {n}, DataType.DOUBLE);
        return new Dataset(x, y);
    }

    static double relError(INDArray got, INDArray want) {
        return got.sub(want).norm2Number().doubleValue() / Math.max(1e-300, want.norm2Number().doubleValue());
    }

    static double logDet(INDArray p) {
        double s = 0;
        for (double v : SymmetricEigen.decompose(p).values()) {
            s += Math.log(v);
        }
        return s;
    }

    @Test
    void kronPrecisionLogDetSolvesAndEvidenceMatchTheDenseMatrixFromTheFactors() throws Exception {
        Sequential model = cnn();
        Dataset d = data(12, 1);
        INDArray theta = model.initialParameters(2);
        Laplace la = Laplace.fit(model, Losses.CROSS_ENTROPY, d, theta, Laplace.Options.of(Structure.KRON, Subset.ALL, 0.7), ProgressListener.NONE);
        KfacFactors f = Kfac.compute(model, Losses.CROSS_ENTROPY, d, theta, Kfac.Options.exact());
        double c = la.curvatureScale();
        assertEquals(12.0, c, 0.0);
        INDArray p = f.dense().muli(c).addi(Nd4j.eye(N).castTo(DataType.DOUBLE).muli(0.7));
        assertTrue(relError(la.precision().dense(c, la.priorPrecision()), p) < Tolerances.CLOSED_FORM, "P from the factors");
        assertEquals(logDet(p), la.logDetPrecision(), Tolerances.CLOSED_FORM * Math.abs(logDet(p)));
        INDArray v = Nd4j.randn(DataType.DOUBLE, N, 5);
        INDArray solved = la.precision().solve(v, c, la.priorPrecision());
        assertTrue(relError(p.mmul(solved), v) < Tolerances.CLOSED_FORM, "P P^-1 V = V");
        double norm2 = theta.mul(theta).sumNumber().doubleValue();
        double want = la.logLikelihood() - 0.35 * norm2 + N / 2.0 * Math.log(0.7) - 0.5 * logDet(p);
        assertEquals(want, la.logMarginalLikelihood(), Tolerances.CLOSED_FORM * Math.abs(want));
    }

    @Test
    void fullAndDiagPrecisionsAreTheEnginesGgnAndItsDiagonal() throws Exception {
        Sequential model = cnn();
        Dataset d = data(10, 3);
        INDArray theta = model.initialParameters(4);
        INDArray ggn = FullHessian.compute(new GgnOperator(model, Losses.CROSS_ENTROPY, d, theta, 0), FullHessian.Options.defaults()).matrix();
        INDArray eye = Nd4j.eye(N).castTo(DataType.DOUBLE);
        Laplace full = Laplace.fit(model, Losses.CROSS_ENTROPY, d, theta, Laplace.Options.of(Structure.FULL, Subset.ALL, 1.3), ProgressListener.NONE);
        INDArray p = ggn.mul(10).addi(eye.mul(1.3));
        assertTrue(relError(full.precision().dense(10, full.priorPrecision()), p) < Tolerances.CLOSED_FORM, "full P");
        assertEquals(logDet(p), full.logDetPrecision(), Tolerances.CLOSED_FORM * Math.abs(logDet(p)));
        Laplace diag = Laplace.fit(model, Losses.CROSS_ENTROPY, d, theta, Laplace.Options.of(Structure.DIAG, Subset.ALL, 1.3), ProgressListener.NONE);
        assertTrue(relError(diag.precision().dense(10, diag.priorPrecision()), Nd4j.diag(Nd4j.diag(p))) < Tolerances.CLOSED_FORM, "diag P");
        Laplace last = Laplace.fit(model, Losses.CROSS_ENTROPY, d, theta, Laplace.Options.of(Structure.FULL, Subset.LAST_LAYER, 1.3),
                ProgressListener.NONE);
        INDArray lastBlock = p.get(NDArrayIndex.interval(57, N), NDArrayIndex.interval(57, N));
        assertEquals(39, last.parameterCount());
        assertTrue(relError(last.precision().dense(10, last.priorPrecision()), lastBlock) < Tolerances.CLOSED_FORM, "last-layer full P");
    }

    @Test
    void glmCovarianceIsJacobianTimesInversePrecisionTimesJacobianTransposed() throws Exception {
        Sequential model = cnn();
        Dataset d = data(9, 5);
        INDArray theta = model.initialParameters(6);
        INDArray xs = Nd4j.randn(DataType.DOUBLE, 4, 2, 4, 4);
        INDArray jac = Autodiff.jacrev(t -> model.forward(t, Tensor.of(xs))).apply(Tensor.of(theta)).array();        // [4, 3, N]
        for (Structure s : Structure.values()) {
            for (Subset subset : Subset.values()) {
                Laplace la = Laplace.fit(model, Losses.CROSS_ENTROPY, d, theta, Laplace.Options.of(s, subset, 2.0), ProgressListener.NONE);
                long from = subset == Subset.ALL ? 0 : 57;
                INDArray j = jac.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(from, N)).dup('c');
                INDArray pInv = org.nd4j.linalg.inverse.InvertMatrix.invert(la.precision().dense(la.curvatureScale(), la.priorPrecision()), false);
                GlmPredictive.Prediction pred = GlmPredictive.predict(la, xs, 0, 0, ProgressListener.NONE);
                for (int i = 0; i < 4; i++) {
                    INDArray ji = j.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all());
                    INDArray want = ji.mmul(pInv).mmul(ji.transpose());
                    INDArray got = pred.covariance().get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all());
                    assertTrue(relError(got, want) < Tolerances.CLOSED_FORM, s + " " + subset + " sample " + i + ": " + relError(got, want));
                }
                assertTrue(relError(pred.mean().sum(1), Nd4j.ones(DataType.DOUBLE, 4)) < Tolerances.CLOSED_FORM, "probabilities sum to 1");
            }
        }
    }
}
