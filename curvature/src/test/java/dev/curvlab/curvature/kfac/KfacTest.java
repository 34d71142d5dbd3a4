package dev.curvlab.curvature.kfac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Tolerances;
import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.curvature.operator.GgnOperator;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.curvature.progress.ProgressListener;
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

/**
 * KFAC, EKFAC and the exact diagonals against the dense GGN and Hessian of the structured Hessian
 * (a second, independent path), and the MC variants against the exact ones.
 */
class KfacTest {
    static Dataset data(Loss loss, int n, int in, int out, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.randn(DataType.DOUBLE, n, in);
        INDArray y = switch (loss.name()) {
            case "ce" -> Nd4j.create(IntStream.range(0, n).mapToDouble(i -> (i * 7 + seed) % out).toArray(), new long[] {n}, DataType.DOUBLE);
            case "bce" -> Nd4j.rand(DataType.DOUBLE, n, out);
            case "gaussian" -> Nd4j.randn(DataType.DOUBLE, n, out / 2);
            default -> Nd4j.randn(DataType.DOUBLE, n, out);
        };
        return new Dataset(x, y);
    }

    static INDArray block(INDArray m, long from, long to) {
        return m.get(NDArrayIndex.interval(from, to), NDArrayIndex.interval(from, to));
    }

    static double relError(INDArray got, INDArray want) {
        return got.sub(want).norm2Number().doubleValue() / Math.max(1e-300, want.norm2Number().doubleValue());
    }

    @Test
    void kfacEqualsTheGgnOfASingleDenseLayerWithMse() {
        Sequential model = Sequential.mlp(new int[] {4, 3}, Activation.TANH);
        Dataset d = data(Losses.MSE, 13, 4, 3, 1);
        INDArray theta = model.initialParameters(3);
        INDArray ggn = dense(new GgnOperator(model, Losses.MSE, d, theta, 0));
        KfacFactors f = Kfac.compute(model, Losses.MSE, d, theta, Kfac.Options.exact());
        assertTrue(relError(f.kfacBlock(0), ggn) < Tolerances.CLOSED_FORM, "KFAC vs GGN: " + relError(f.kfacBlock(0), ggn));
        assertTrue(relError(f.dense(), ggn) < Tolerances.CLOSED_FORM);
    }

    @Test
    void kfacOfTheLastLayerEqualsTheGgnBlockWhenInputsAreShared() {
        // one sample: every layer's block is exactly A kron G (all samples share u u^T)
        Sequential model = Sequential.mlp(new int[] {3, 5, 4}, Activation.TANH);
        Dataset d = data(Losses.CROSS_ENTROPY, 1, 3, 4, 2);
        INDArray theta = model.initialParameters(5);
        INDArray ggn = dense(new GgnOperator(model, Losses.CROSS_ENTROPY, d, theta, 0));
        KfacFactors f = Kfac.compute(model, Losses.CROSS_ENTROPY, d, theta, Kfac.Options.exact());
        assertTrue(relError(f.kfacBlock(0), block(ggn, 0, 20)) < Tolerances.CLOSED_FORM);
        assertTrue(relError(f.kfacBlock(1), block(ggn, 20, 44)) < Tolerances.CLOSED_FORM);
    }

    @Test
    void ekfacDiagonalEqualsTheRotatedGgnBlockDiagonal() {
        for (Loss loss : new Loss[] {Losses.CROSS_ENTROPY, Losses.BCE, Losses.GAUSSIAN}) {
            Sequential model = Sequential.mlp(new int[] {3, 6, 4}, Activation.TANH);
            Dataset d = data(loss, 17, 3, 4, 4);
            INDArray theta = model.initialParameters(6);
            INDArray ggn = dense(new GgnOperator(model, loss, d, theta, 0));
            KfacFactors f = Kfac.compute(model, loss, d, theta, new Kfac.Options(KfacVariant.EXACT, 1, 0, true));
            long[] off = {0, 24, 52};
            for (int l = 0; l < 2; l++) {
                INDArray q = KfacFactors.kron(f.ekfacBases().get(l)[0], f.ekfacBases().get(l)[1]);
                INDArray want = Nd4j.diag(q.transpose().mmul(block(ggn, off[l], off[l + 1])).mmul(q));
                INDArray got = f.ekfac().get(l).reshape('c', new long[] {want.length()});
                assertTrue(relError(got, want.reshape(want.length())) < 1e-9, loss.name() + " layer " + l + ": " + relError(got, want.reshape(want.length())));
            }
        }
    }

    @Test
    void ggnAndHessianDiagonalsEqualTheDenseMatrices() {
        Sequential model = Sequential.builder(3).dense(5, Activation.TANH).dense(4, Activation.SOFTPLUS).dense(2, Activation.SIGMOID).build();
        for (Loss loss : new Loss[] {Losses.MSE, Losses.CROSS_ENTROPY, Losses.GAUSSIAN}) {
            Dataset d = data(loss, 23, 3, 2, 9);
            INDArray theta = model.initialParameters(8);
            INDArray ggn = dense(new GgnOperator(model, loss, d, theta, 0));
            INDArray hess = dense(new HessianOperator(model, loss, d, theta, 0));
            INDArray dg = CurvatureDiagonal.compute(DiagonalKind.GGN, model, loss, d, theta, 1, 0, ProgressListener.NONE);
            INDArray dh = CurvatureDiagonal.compute(DiagonalKind.HESSIAN, model, loss, d, theta, 1, 0, ProgressListener.NONE);
            INDArray wantG = Nd4j.diag(ggn).reshape(ggn.size(0));
            INDArray wantH = Nd4j.diag(hess).reshape(hess.size(0));
            assertTrue(relError(dg, wantG) < Tolerances.CLOSED_FORM, loss.name() + " ggn diag: " + relError(dg, wantG));
            assertTrue(relError(dh, wantH) < Tolerances.CLOSED_FORM, loss.name() + " hessian diag: " + relError(dh, wantH));
        }
    }

    @Test
    void monteCarloVariantsConvergeToTheExactOnes() {
        Sequential model = Sequential.mlp(new int[] {3, 4, 3}, Activation.TANH);
        for (Loss loss : new Loss[] {Losses.CROSS_ENTROPY, Losses.MSE}) {
            Dataset d = data(loss, 40, 3, 3, 11);
            INDArray theta = model.initialParameters(12);
            KfacFactors exact = Kfac.compute(model, loss, d, theta, Kfac.Options.exact());
            INDArray exactDiag = CurvatureDiagonal.compute(DiagonalKind.GGN, model, loss, d, theta, 1, 0, ProgressListener.NONE);
            double previous = Double.POSITIVE_INFINITY;
            for (int s : new int[] {4, 64, 1024}) {
                KfacFactors mc = Kfac.compute(model, loss, d, theta, new Kfac.Options(KfacVariant.MC, s, 7, false));
                INDArray mcDiag = CurvatureDiagonal.compute(DiagonalKind.MC_FISHER, model, loss, d, theta, s, 7, ProgressListener.NONE);
                double err = Math.max(relError(mc.g().get(0), exact.g().get(0)), relError(mc.g().get(1), exact.g().get(1)));
                double errDiag = relError(mcDiag, exactDiag);
                // a mean of n*s independent terms: relative error ~ 1/sqrt(n s); allow 4x that
                double bound = 4.0 / Math.sqrt(40.0 * s) * 3;
                assertTrue(err < bound, loss.name() + " S=" + s + " G error " + err + " > " + bound);
                assertTrue(errDiag < bound, loss.name() + " S=" + s + " diag error " + errDiag + " > " + bound);
                assertEquals(exact.a().get(1).getDouble(0, 0), mc.a().get(1).getDouble(0, 0), Tolerances.EXACT);
                previous = Math.min(previous, err);
            }
        }
    }

    @Test
    void chunkedPassesGiveTheSameFactors() {
        Sequential model = Sequential.mlp(new int[] {3, 4, 3}, Activation.TANH);
        Dataset d = data(Losses.CROSS_ENTROPY, 30, 3, 3, 5);
        INDArray theta = model.initialParameters(2);
        KfacFactors whole = Kfac.compute(model, Losses.CROSS_ENTROPY, d, theta, Kfac.Options.exact());
        KfacFactors emp = Kfac.compute(model, Losses.CROSS_ENTROPY, d, theta, new Kfac.Options(KfacVariant.EMPIRICAL, 1, 0, false));
        // empirical G of the last layer = (1/n) sum_i (p_i - y_i)(p_i - y_i)^T
        INDArray p = org.nd4j.linalg.ops.transforms.Transforms.softmax(model.predict(theta, d.x()), true);
        INDArray r = p.sub(Losses.CROSS_ENTROPY.prepare(d.y(), 3).array());
        assertTrue(relError(emp.g().get(1), r.transpose().mmul(r).divi(30)) < Tolerances.CLOSED_FORM);
        assertTrue(whole.g().get(0).sumNumber().doubleValue() != 0);
    }

    /** The dense matrix through the one pipeline (the structured method for these dense chains). */
    static INDArray dense(CurvatureOperator op) {
        try {
            return FullHessian.compute(op, FullHessian.Options.defaults()).matrix();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
