package dev.curvlab.curvature.kfac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Tolerances;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The fast paths of the factor loop against closed forms and a root-free path: the rank C-1 softmax
 * Cholesky root, the symmetric rank-k grams accumulated over several chunks, and the Java slope
 * scaling of the backward pass.
 */
class KfacFastPathTest {
    /** {@code diag(p) - p p^T} per sample, {@code [n, C, C]}. */
    private static INDArray softmaxHessians(INDArray logits) {
        INDArray p = Transforms.softmax(logits, true);
        long n = p.size(0);
        long c = p.size(1);
        INDArray h = p.reshape(n, c, 1).mul(p.reshape(n, 1, c)).negi();
        OutputColumns.diagonalView(h).addi(p);
        return h;
    }

    @Test
    void softmaxRootIsACholeskyFactorOfTheSoftmaxHessian() {
        // ordinary, saturated (p ~ one-hot) and underflowing (tail sums exactly 0) logits
        INDArray f = Nd4j.create(new double[][] {{0.3, -1.2, 2.0, 0.1}, {40, -40, 0, 1}, {0, 0, 800, -800}, {-3, -3, -3, -3}});
        ColumnBlock r = OutputColumns.softmaxRoot(f, 2.0);
        assertEquals(3, r.count(), "rank C-1 columns");
        INDArray b = r.columns();
        INDArray want = softmaxHessians(f).muli(4.0);
        for (int s = 0; s < 4; s++) {
            INDArray bs = b.get(NDArrayIndex.point(s), NDArrayIndex.all(), NDArrayIndex.all());
            INDArray got = bs.transpose().mmul(bs);
            INDArray ws = want.get(NDArrayIndex.point(s), NDArrayIndex.all(), NDArrayIndex.all());
            double err = got.sub(ws).amaxNumber().doubleValue();
            assertTrue(err < Tolerances.CLOSED_FORM, "sample " + s + ": |R R^T - 4 (diag p - p p^T)| = " + err);
            assertTrue(!Double.isNaN(bs.sumNumber().doubleValue()), "finite root");
        }
    }

    @Test
    void factorsAccumulatedOverChunksEqualTheClosedForm() {
        // one affine layer 1023 -> 4 with ce: A = X~^T X~ / n and G = (1/n) sum_i (diag p_i - p_i p_i^T);
        // 600 samples of 1024-wide columns take three chunks of SampleChunks.CHUNK_DOUBLES
        int n = 600;
        Sequential model = Sequential.mlp(new int[] {1023, 4}, Activation.TANH);
        Dataset d = KfacTest.data(Losses.CROSS_ENTROPY, n, 1023, 4, 7);
        INDArray theta = model.initialParameters(11).muli(3.0);
        assertTrue(n * 4L * 1024 > 2 * SampleChunks.CHUNK_DOUBLES, "the data must span several chunks");
        KfacFactors f = Kfac.compute(model, Losses.CROSS_ENTROPY, d, theta, Kfac.Options.exact());
        INDArray xt = Nd4j.hstack(d.x(), Nd4j.ones(DataType.DOUBLE, n, 1));
        INDArray a = xt.transpose().mmul(xt).divi(n);
        INDArray g = softmaxHessians(model.predict(theta, d.x())).sum(0).divi(n);
        assertTrue(KfacTest.relError(f.a().get(0), a) < Tolerances.CLOSED_FORM, "A: " + KfacTest.relError(f.a().get(0), a));
        assertTrue(KfacTest.relError(f.g().get(0), g) < Tolerances.CLOSED_FORM, "G: " + KfacTest.relError(f.g().get(0), g));
        assertEquals(0.0, f.a().get(0).sub(f.a().get(0).transpose()).amaxNumber().doubleValue(), "A mirrored exactly");
    }

    @Test
    void fusedPassSumsTheLossOverChunksAsTheGenericEngineDoes() {
        // the kron Laplace's likelihood term: sum_i l(f(x_i), y_i) summed chunk by chunk in the KFAC pass
        // against the generic engine's summed objective over all 600 samples at once (three chunks)
        int n = 600;
        Sequential model = Sequential.mlp(new int[] {1023, 4}, Activation.TANH);
        Dataset d = KfacTest.data(Losses.CROSS_ENTROPY, n, 1023, 4, 7);
        INDArray theta = model.initialParameters(11).muli(3.0);
        Kfac.FactorsAndLoss fl = Kfac.computeWithLoss(model, Losses.CROSS_ENTROPY, d, theta, Kfac.Options.exact(), 0,
                dev.curvlab.curvature.progress.ProgressListener.NONE);
        double want = new dev.curvlab.nn.ModelObjective(model, Losses.CROSS_ENTROPY, d.x(), d.y(), dev.curvlab.nn.loss.Reduction.SUM)
                .value(theta);
        assertEquals(want, fl.summedLoss(), Tolerances.CLOSED_FORM * Math.abs(want), "summed loss");
        KfacFactors f = Kfac.compute(model, Losses.CROSS_ENTROPY, d, theta, Kfac.Options.exact());
        assertEquals(0.0, KfacTest.relError(fl.factors().g().get(0), f.g().get(0)), 0.0, "same G as compute");
    }

    @Test
    void deepFactorsEqualTheSumOverSamplesOfJacobianSandwiches() {
        // G_l = (1/n) sum_i J_i^T (diag p_i - p_i p_i^T) J_i with J_i = d f / d z_l from the identity
        // columns (LayerJacobians: no output root, no rank-k update), A_l = (1/n) sum_i u_i u_i^T;
        // 400 samples x 64 units: the slope scaling takes its multi-threaded path
        int n = 400;
        Sequential model = Sequential.mlp(new int[] {3, 64, 48, 4}, Activation.TANH);
        Dataset d = KfacTest.data(Losses.CROSS_ENTROPY, n, 3, 4, 3);
        INDArray theta = model.initialParameters(4);
        KfacFactors f = Kfac.compute(model, Losses.CROSS_ENTROPY, d, theta, Kfac.Options.exact());
        LayerJacobians jac = LayerJacobians.of(model, theta, d.x(), 0);
        INDArray h = softmaxHessians(jac.outputs());
        for (int l = 0; l < 3; l++) {
            INDArray g = Nd4j.zeros(DataType.DOUBLE, f.g().get(l).shape());
            for (int i = 0; i < n; i++) {
                INDArray j = jac.outputGradients(l).get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all());
                g.addi(j.transpose().mmul(h.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all())).mmul(j));
            }
            g.divi(n);
            INDArray u = jac.inputs(l);
            INDArray a = u.transpose().mmul(u).divi(n);
            assertTrue(KfacTest.relError(f.g().get(l), g) < Tolerances.CLOSED_FORM, "G_" + l + ": " + KfacTest.relError(f.g().get(l), g));
            assertTrue(KfacTest.relError(f.a().get(l), a) < Tolerances.CLOSED_FORM, "A_" + l + ": " + KfacTest.relError(f.a().get(l), a));
        }
        jac.free();
    }
}
