package dev.curvlab.curvature.kfac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.Autodiff;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.core.kernels.RawAccess;
import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.operator.GgnOperator;
import dev.curvlab.curvature.progress.ProgressListener;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Layer;
import dev.curvlab.nn.model.Sequential;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * KFC (expand) for conv layers, EKFAC and the diagonals of CNNs against: the dense layer's KFAC
 * (a conv whose kernel covers the image is a dense layer), the exact GGN (GgnOperator + FullHessian,
 * the generic engine's dense matrix), and a naive loop over samples and positions.
 */
class ConvKfacTest {
    static final int[] K3 = {3, 3};
    static final int[] ONE = {1, 1};
    static final int[] ZERO = {0, 0};

    static Dataset images(Loss loss, int n, int c, int h, int w, int out, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.randn(DataType.DOUBLE, n, c, h, w);
        INDArray y = loss == Losses.CROSS_ENTROPY
                ? Nd4j.create(IntStream.range(0, n).mapToDouble(i -> (i * 7 + seed) % out).toArray(), new long[] {n}, DataType.DOUBLE)
                : Nd4j.randn(DataType.DOUBLE, n, out);
        return new Dataset(x, y);
    }

    /** A small CNN with padding, pooling and a dense head: [2, 4, 4] - conv3x3x3 p1 (tanh) - maxpool 2 - flatten - 3. */
    static Sequential smallCnn() {
        return Sequential.imageBuilder(2, 4, 4).conv2d(3, K3, ONE, ONE, Activation.TANH).maxPool2d(new int[] {2, 2}, new int[] {2, 2})
                .flatten().dense(3, Activation.IDENTITY).build();
    }

    static INDArray denseGgn(Sequential model, Loss loss, Dataset d, INDArray theta) throws Exception {
        return FullHessian.compute(new GgnOperator(model, loss, d, theta, 0), FullHessian.Options.defaults()).matrix();
    }

    static double relError(INDArray got, INDArray want) {
        return got.sub(want).norm2Number().doubleValue() / Math.max(1e-300, want.norm2Number().doubleValue());
    }

    @Test
    void aConvWhoseKernelCoversTheImageHasTheDenseLayersKfac() {
        // [2, 3, 3] - conv 4x3x3 (tanh) - flatten - 3  ==  18 - 4 (tanh) - 3 with W_dense = W_conv^T
        Sequential cnn = Sequential.imageBuilder(2, 3, 3).conv2d(4, K3, ONE, ZERO, Activation.TANH).flatten().dense(3, Activation.IDENTITY).build();
        Sequential mlp = Sequential.mlp(new int[] {18, 4, 3}, Activation.TANH);
        Dataset d = images(Losses.CROSS_ENTROPY, 11, 2, 3, 3, 3, 1);
        Dataset flat = new Dataset(d.x().reshape(11, 18), d.y());
        INDArray thetaCnn = cnn.initialParameters(7);
        int[] map = convToDenseOrder(19, 4, 15);
        INDArray thetaMlp = Nd4j.create(DataType.DOUBLE, thetaCnn.length());
        for (int k = 0; k < map.length; k++) {
            thetaMlp.putScalar(map[k], thetaCnn.getDouble(k));
        }
        assertTrue(relError(cnn.predict(thetaCnn, d.x()), mlp.predict(thetaMlp, flat.x())) < Tolerances.CLOSED_FORM, "the two models agree");
        for (KfacVariant v : KfacVariant.values()) {
            Kfac.Options o = new Kfac.Options(v, 3, 5, false);
            KfacFactors conv = ConvKfac.compute(cnn, Losses.CROSS_ENTROPY, d, thetaCnn, o, 0, ProgressListener.NONE);
            KfacFactors dense = Kfac.compute(mlp, Losses.CROSS_ENTROPY, flat, thetaMlp, o);
            for (int l = 0; l < 2; l++) {
                assertTrue(relError(conv.a().get(l), dense.a().get(l)) < Tolerances.CLOSED_FORM, v + " A_" + l);
                assertTrue(relError(conv.g().get(l), dense.g().get(l)) < Tolerances.CLOSED_FORM, v + " G_" + l);
            }
            INDArray mapped = permute(dense.dense(), map);
            assertTrue(relError(conv.dense(), mapped) < Tolerances.CLOSED_FORM, v + ": the conv block in the flat order");
        }
    }

    /** Flat index of the CNN -> flat index of the MLP: the first layer's W [F, P] is W_dense [P, F] transposed. */
    static int[] convToDenseOrder(int rows, int filters, int rest) {
        int patch = rows - 1;
        int[] map = new int[rows * filters + rest];
        for (int k = 0; k < map.length; k++) {
            map[k] = k < patch * filters ? (k % patch) * filters + k / patch : k;
        }
        return map;
    }

    /** {@code out[i, j] = m[map[i], map[j]]}. */
    static INDArray permute(INDArray m, int[] map) {
        INDArray out = Nd4j.create(DataType.DOUBLE, map.length, map.length);
        for (int i = 0; i < map.length; i++) {
            for (int j = 0; j < map.length; j++) {
                out.putScalar(i, j, m.getDouble(map[i], map[j]));
            }
        }
        return out;
    }

    @Test
    void oneConvLayerWithMseAndOneOutputPositionHasKfacEqualToTheGgn() throws Exception {
        Sequential cnn = Sequential.imageBuilder(2, 3, 3).conv2d(3, K3, ONE, ZERO, Activation.IDENTITY).flatten().build();
        Dataset d = images(Losses.MSE, 9, 2, 3, 3, 3, 2);
        INDArray theta = cnn.initialParameters(3);
        KfacFactors f = ConvKfac.compute(cnn, Losses.MSE, d, theta, Kfac.Options.exact(), 0, ProgressListener.NONE);
        INDArray ggn = denseGgn(cnn, Losses.MSE, d, theta);
        assertTrue(relError(f.dense(), ggn) < Tolerances.CLOSED_FORM, "KFAC vs GGN: " + relError(f.dense(), ggn));
    }

    @Test
    void expandFactorsEqualANaiveLoopOverSamplesAndPositions() {
        Sequential cnn = smallCnn();
        Dataset d = images(Losses.CROSS_ENTROPY, 5, 2, 4, 4, 3, 3);
        INDArray theta = cnn.initialParameters(4);
        KfacFactors f = ConvKfac.compute(cnn, Losses.CROSS_ENTROPY, d, theta, Kfac.Options.exact(), 0, ProgressListener.NONE);
        double[][] naiveA = new double[19][19];
        double[][] naiveG = new double[3][3];
        double[] x = RawAccess.readAll(d.x().dup('c'));
        INDArray w = theta.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 54)).reshape('c', new long[] {3, 18});
        INDArray b = theta.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(54, 57));
        for (int i = 0; i < 5; i++) {
            INDArray z = Nd4j.create(DataType.DOUBLE, 3, 4, 4);
            double[][] patches = new double[16][];
            for (int t = 0; t < 16; t++) {
                patches[t] = patch(x, i, t / 4, t % 4);
                INDArray zt = w.mmul(Nd4j.create(patches[t], new long[] {18, 1}, DataType.DOUBLE)).addi(b.reshape(3, 1));
                for (int k = 0; k < 3; k++) {
                    z.putScalar(new int[] {k, t / 4, t % 4}, zt.getDouble(k, 0));
                }
                double[] u = java.util.Arrays.copyOf(patches[t], 19);
                u[18] = 1;
                for (int p = 0; p < 19; p++) {
                    for (int q = 0; q < 19; q++) {
                        naiveA[p][q] += u[p] * u[q] / (5.0 * 16);
                    }
                }
            }
            // J_t = d f / d z at position t, by the engine's jacrev of the network's tail; H = (diag p - p p^T) / n
            INDArray jac = Autodiff.jacrev(zz -> tail(cnn, theta, zz)).apply(Tensor.of(z.reshape(1, 3, 4, 4))).array().reshape(3, 3, 16);
            INDArray logits = tail(cnn, theta, Tensor.of(z.reshape(1, 3, 4, 4))).array().reshape(3);
            INDArray p = org.nd4j.linalg.ops.transforms.Transforms.softmax(logits.reshape(1, 3), true).reshape(3);
            INDArray h = Nd4j.diag(p).sub(p.reshape(3, 1).mmul(p.reshape(1, 3))).divi(5.0);
            for (int t = 0; t < 16; t++) {
                INDArray jt = jac.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.all(),
                        org.nd4j.linalg.indexing.NDArrayIndex.point(t));
                INDArray gt = jt.transpose().mmul(h).mmul(jt);
                for (int k = 0; k < 3; k++) {
                    for (int m = 0; m < 3; m++) {
                        naiveG[k][m] += gt.getDouble(k, m);
                    }
                }
            }
        }
        assertTrue(relError(f.a().get(0), Nd4j.create(naiveA)) < Tolerances.CLOSED_FORM, "A_conv");
        assertTrue(relError(f.g().get(0), Nd4j.create(naiveG)) < Tolerances.CLOSED_FORM, "G_conv: " + f.g().get(0) + " vs " + Nd4j.create(naiveG));
    }

    /** The 3x3 patch (padding 1) of image i at output (oh, ow), ordered (c, i, j). */
    static double[] patch(double[] x, int i, int oh, int ow) {
        double[] p = new double[18];
        for (int c = 0; c < 2; c++) {
            for (int di = 0; di < 3; di++) {
                for (int dj = 0; dj < 3; dj++) {
                    int r = oh + di - 1;
                    int s = ow + dj - 1;
                    p[c * 9 + di * 3 + dj] = r < 0 || r >= 4 || s < 0 || s >= 4 ? 0 : x[((i * 2 + c) * 4 + r) * 4 + s];
                }
            }
        }
        return p;
    }

    /** The CNN after the conv's pre-activation: tanh, pool, flatten, dense. */
    static Tensor tail(Sequential cnn, INDArray theta, Tensor z) {
        List<Layer> m = cnn.modules();
        Tensor a = m.get(0).activation().apply(z);
        a = m.get(1).apply(a, List.of());
        a = m.get(2).apply(a, List.of());
        Tensor th = Tensor.of(theta);
        return m.get(3).apply(a, List.of(th.slice(0, 57, 93).reshape(12, 3), th.slice(0, 93, 96)));
    }

    @Test
    void ekfacDiagonalEqualsTheRotatedGgnBlockDiagonal() throws Exception {
        Sequential cnn = smallCnn();
        Dataset d = images(Losses.CROSS_ENTROPY, 6, 2, 4, 4, 3, 4);
        INDArray theta = cnn.initialParameters(5);
        KfacFactors f = ConvKfac.compute(cnn, Losses.CROSS_ENTROPY, d, theta, new Kfac.Options(KfacVariant.EXACT, 1, 0, true), 0,
                ProgressListener.NONE);
        INDArray ggn = denseGgn(cnn, Losses.CROSS_ENTROPY, d, theta);
        long[] off = {0, 57, 96};
        for (int l = 0; l < 2; l++) {
            INDArray q = KfacFactors.kron(f.ekfacBases().get(l)[0], f.ekfacBases().get(l)[1]);
            int[] perm = ParametricLayers.flatToKron((int) f.a().get(l).size(0), (int) f.g().get(l).size(0), l == 0);
            INDArray qFlat = Nd4j.create(DataType.DOUBLE, q.size(0), q.size(1));
            for (int k = 0; k < perm.length; k++) {
                qFlat.getRow(k).assign(q.getRow(perm[k]));
            }
            INDArray block = ggn.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(off[l], off[l + 1]),
                    org.nd4j.linalg.indexing.NDArrayIndex.interval(off[l], off[l + 1]));
            INDArray want = Nd4j.diag(qFlat.transpose().mmul(block).mmul(qFlat));
            INDArray got = f.ekfac().get(l).reshape('c', new long[] {want.length()});
            assertTrue(relError(got, want) < Tolerances.CLOSED_FORM, "EKFAC diagonal of layer " + l + ": " + relError(got, want));
        }
    }

    @Test
    void ggnDiagonalAndGgnAndJacobianEqualTheEnginesDenseMatrices() throws Exception {
        Sequential cnn = smallCnn();
        Dataset d = images(Losses.CROSS_ENTROPY, 7, 2, 4, 4, 3, 5);
        INDArray theta = cnn.initialParameters(6);
        INDArray ggn = denseGgn(cnn, Losses.CROSS_ENTROPY, d, theta);
        INDArray diag = ConvKfac.diagonal(DiagonalKind.GGN, cnn, Losses.CROSS_ENTROPY, d, theta, 1, 0, ProgressListener.NONE);
        assertTrue(relError(diag, Nd4j.diag(ggn)) < Tolerances.CLOSED_FORM, "diag GGN");
        assertTrue(relError(ConvKfac.ggn(cnn, Losses.CROSS_ENTROPY, d, theta, 0, ProgressListener.NONE), ggn) < Tolerances.CLOSED_FORM, "GGN");
        INDArray last = ggn.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(57, 96), org.nd4j.linalg.indexing.NDArrayIndex.interval(57, 96));
        assertTrue(relError(ConvKfac.ggn(cnn, Losses.CROSS_ENTROPY, d, theta, 1, ProgressListener.NONE), last) < Tolerances.CLOSED_FORM, "last layer");
        INDArray x = d.x();
        INDArray want = Autodiff.jacrev(t -> cnn.forward(t, Tensor.of(x))).apply(Tensor.of(theta)).array();       // [S, out, N]
        INDArray got = ConvKfac.jacobian(cnn, theta, x, 0)[0];
        assertTrue(relError(got, want) < Tolerances.CLOSED_FORM, "Jacobian");
        assertThrows(IllegalArgumentException.class,
                () -> ConvKfac.diagonal(DiagonalKind.HESSIAN, cnn, Losses.CROSS_ENTROPY, d, theta, 1, 0, ProgressListener.NONE));
    }

    @Test
    void mcFisherDiagonalApproachesTheGgnDiagonal() {
        Sequential cnn = smallCnn();
        Dataset d = images(Losses.CROSS_ENTROPY, 20, 2, 4, 4, 3, 6);
        INDArray theta = cnn.initialParameters(8);
        INDArray exact = ConvKfac.diagonal(DiagonalKind.GGN, cnn, Losses.CROSS_ENTROPY, d, theta, 1, 0, ProgressListener.NONE);
        int samples = 400;
        INDArray mc = ConvKfac.diagonal(DiagonalKind.MC_FISHER, cnn, Losses.CROSS_ENTROPY, d, theta, samples, 11, ProgressListener.NONE);
        double err = relError(mc, exact);
        assertTrue(err < 12 / Math.sqrt(20.0 * samples), "MC Fisher diagonal vs GGN diagonal: " + err);
        assertEquals(exact.length(), cnn.parameterCount());
    }
}
