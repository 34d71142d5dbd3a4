package dev.curvlab.curvature.cli;

import static dev.curvlab.curvature.cli.CurvlabCliTest.assertClose;
import static dev.curvlab.curvature.cli.CurvlabCliTest.number;
import static dev.curvlab.curvature.cli.CurvlabCliTest.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.ArrayScope;
import dev.curvlab.core.Autodiff;
import dev.curvlab.core.Rowwise;
import dev.curvlab.core.Tensor;
import dev.curvlab.curvature.spectrum.SymmetricEigen;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.io.NpyFile;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Every command on a tiny CNN (conv, avg and max pooling, flatten, dense; N = 47) against
 * independent paths: the Hessian by jacfwd(jacrev) of the loss, the GGN as J^T H J from explicit
 * Jacobians, the empirical Fisher from per-sample gradients one by one, the observed Fisher as
 * n times the mean-loss Hessian (ce), input Jacobians by forward vs reverse mode.
 */
class CnnCliTest {
    @TempDir
    Path dir;

    CliFixture f;
    INDArray h;

    static Sequential tinyCnn() {
        return Sequential.imageBuilder(1, 5, 5)
                .conv2d(2, new int[] {3, 3}, null, new int[] {1, 1}, Activation.TANH)
                .avgPool2d(new int[] {2, 2}, new int[] {1, 1})
                .maxPool2d(new int[] {2, 2}, null)
                .flatten()
                .dense(3, Activation.IDENTITY)
                .build();
    }

    @BeforeEach
    void setUp() throws Exception {
        Sequential m = tinyCnn();
        double[] cls = {0, 1, 2, 1, 0, 2};
        f = CliFixture.write(dir, m, Losses.CROSS_ENTROPY, m.initialParameters(3).addi(CliFixture.randn(4, m.parameterCount()).muli(0.1)),
                CliFixture.randn(5, 6, 1, 5, 5), Nd4j.create(cls, new long[] {6}, DataType.DOUBLE));
        h = CurvlabCliTest.denseHessian(f);
    }

    @Test
    void gradientHessianByEveryGenericMethodAndLayerBlocks() throws Exception {
        ModelObjective obj = new ModelObjective(f.model(), f.loss(), f.data(), Reduction.MEAN);
        ok(f.args("gradient", "--out", f.file("g.npy"), "--batch-size", 4));
        assertClose("gradient", NpyFile.read(f.file("g.npy")), obj.gradient(f.theta()), 1e-10);
        CliFixture.Run auto = ok(f.args("hessian", "--out", f.file("H.npy")));
        assertTrue(auto.out().contains("method = blocked"), auto::toString);
        assertClose("hessian (auto = blocked)", NpyFile.read(f.file("H.npy")), h, 1e-9);
        ok(f.args("hessian", "--method", "rowloop", "--out", f.file("Hr.npy"), "--batch-size", 4));
        assertClose("hessian (per column)", NpyFile.read(f.file("Hr.npy")), h, 1e-9);
        ok(f.args("hessian", "--layer", 0, "--out", f.file("L0.npy")));
        INDArray block = h.get(NDArrayIndex.interval(0, 20), NDArrayIndex.interval(0, 20));
        assertClose("conv layer block", NpyFile.read(f.file("L0.npy")), block, 1e-9);
        CliFixture.Run structured = CliFixture.run(f.args("hessian", "--method", "structured", "--out", f.file("Hs.npy")));
        assertEquals(2, structured.code(), structured::toString);
        assertTrue(structured.err().contains("not a chain of dense layers"), structured::toString);
        CliFixture.Run pool = CliFixture.run(f.args("hessian", "--layer", 1, "--out", f.file("L1.npy")));
        assertTrue(pool.code() != 0 && pool.err().contains("has no parameters"), pool::toString);
        assertFalse(Files.exists(f.file("Hs.npy")) || Files.exists(f.file("L1.npy")));
    }

    @Test
    void hvpEigsAndTraceAgreeWithTheDenseHessian() throws Exception {
        long n = f.model().parameterCount();
        INDArray v = CliFixture.randn(7, n, 2);
        NpyFile.write(f.file("V.npy"), v);
        ok(f.args("hvp", "--v", f.file("V.npy"), "--out", f.file("HV.npy"), "--batch-size", 5));
        assertClose("H V", NpyFile.read(f.file("HV.npy")), h.mmul(v), 1e-9);
        double[] all = SymmetricEigen.eigenvalues(h);
        ok(f.args("eigs", "--k", 2, "--out", f.file("eig.npy")));
        double[] top = CurvlabCliTest.sorted(NpyFile.read(f.file("eig.npy")).toDoubleVector());
        assertArrayEquals(Arrays.copyOfRange(all, all.length - 2, all.length), top, 1e-6 * Math.abs(all[all.length - 1]));
        double trace = 0;
        for (int i = 0; i < n; i++) {
            trace += h.getDouble(i, i);
        }
        CliFixture.Run r = ok(f.args("trace", "--exact"));
        assertEquals(trace, number(r.out(), "trace = "), 1e-9 * Math.max(1, Math.abs(trace)));
    }

    @Test
    void ggnEmpiricalAndObservedFisherAgreeWithTheirDefinitions() throws Exception {
        Sequential m = f.model();
        Tensor x = Tensor.of(f.data().x());
        Tensor y = f.loss().prepare(f.data().y(), m.outputSize());
        long samples = 6;
        long out = m.outputSize();
        long n = m.parameterCount();
        INDArray expectedGgn = ArrayScope.run(() -> {
            Tensor logits = m.forward(Tensor.of(f.theta()), x);
            Tensor jac = Autodiff.jacfwd(t -> m.forward(t, x)).apply(Tensor.of(f.theta())).reshape(samples * out, n);
            Tensor hOut = Autodiff.hessian(z -> f.loss().evaluate(z, y, Reduction.SUM)).apply(logits).reshape(samples * out, samples * out);
            return jac.transpose().matmul(hOut).matmul(jac).mul(1.0 / f.loss().normalizer(samples, out));
        }).array();
        ok(f.args("ggn", "--out", f.file("G.npy"), "--batch-size", 4));
        assertClose("ggn = J^T H J / n", NpyFile.read(f.file("G.npy")), expectedGgn, 1e-9);

        INDArray expectedEmp = Nd4j.zeros(DataType.DOUBLE, n, n);
        for (int i = 0; i < samples; i++) {
            ModelObjective one = new ModelObjective(m, f.loss(), f.data().rows(i, i + 1), Reduction.SUM);
            INDArray g = one.gradient(f.theta()).reshape(n, 1);
            expectedEmp.addi(g.mmul(g.transpose()));
        }
        expectedEmp.muli(1.0 / samples);
        ok(f.args("empirical-fisher", "--out", f.file("E.npy")));
        assertClose("empirical fisher", NpyFile.read(f.file("E.npy")), expectedEmp, 1e-9);

        ok(f.args("fisher", "--out", f.file("F.npy"), "--se", f.file("SE.npy"), "--pinv"));
        assertClose("observed Fisher = n H for ce", NpyFile.read(f.file("F.npy")), h.mul(samples), 1e-9);
        assertArrayEquals(new long[] {n}, NpyFile.read(f.file("SE.npy")).shape());
    }

    @Test
    void inputJacobiansAreSamplesByOutputsByPixelsBothWays() throws Exception {
        ok(f.argsWithoutY("jacobian", "--out", f.file("J.npy")));
        INDArray j = NpyFile.read(f.file("J.npy"));
        assertArrayEquals(new long[] {6, 3, 25}, j.shape());
        Tensor theta = Tensor.of(f.theta());
        Tensor flat = Tensor.of(f.data().x().reshape(6, 25));
        INDArray reverse = Rowwise.jacrev(z -> f.model().forward(theta, z)).apply(flat).array();
        INDArray forward = Rowwise.jacfwd(z -> f.model().forward(theta, z)).apply(flat).array();
        assertClose("jacfwd vs jacrev", forward, reverse, 1e-12);
        assertClose("cli jacobian", j, reverse, 1e-12);
    }

    @Test
    void imagesOfTheWrongShapeAreOneClearErrorAndNoOutput() throws Exception {
        for (INDArray bad : new INDArray[] {CliFixture.randn(8, 6, 25), CliFixture.randn(8, 6, 1, 4, 5), CliFixture.randn(8, 6, 5, 5)}) {
            NpyFile.write(f.xFile(), bad);
            CliFixture.Run r = CliFixture.run(f.args("hessian", "--out", f.file("bad.npy")));
            assertTrue(r.code() != 0, r::toString);
            assertEquals(1, r.errLines().size(), r::toString);
            assertTrue(r.err().contains("inputs must be images [n, 1, 5, 5]") && r.err().contains(Arrays.toString(bad.shape())), r::toString);
            assertFalse(Files.exists(f.file("bad.npy")));
        }
    }
}
