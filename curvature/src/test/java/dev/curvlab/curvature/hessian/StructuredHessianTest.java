package dev.curvlab.curvature.hessian;

import dev.curvlab.core.Autodiff;
import dev.curvlab.curvature.operator.EmpiricalFisherOperator;
import dev.curvlab.nn.ModelObjective;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.Tensor;
import dev.curvlab.core.check.Comparison;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.curvature.operator.GgnOperator;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.curvature.operator.ObservedFisherOperator;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Init;
import dev.curvlab.nn.model.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The structured Hessian against the generic forward-over-reverse blocked Hessian (and the seed's
 * per-column loop on the smaller cases) on random architectures: 1-4 hidden layers, widths 1-40,
 * every activation, mse/ce/bce (and gaussian/poisson), batch sizes 1, 2, 7, 100, output and input
 * width 1 included.
 */
class StructuredHessianTest {
    record Problem(String label, Sequential model, Loss loss, Dataset data, INDArray theta) {
        @Override
        public String toString() {
            return label;
        }
    }

    static Dataset data(Loss loss, int n, int in, int out, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.randn(DataType.DOUBLE, n, in);
        INDArray y = switch (loss.name()) {
            case "ce" -> Nd4j.create(java.util.stream.IntStream.range(0, n).mapToDouble(i -> (i * 7 + seed) % out).toArray(), new long[] {n}, DataType.DOUBLE);
            case "bce" -> Nd4j.rand(DataType.DOUBLE, n, out);
            case "poisson" -> org.nd4j.linalg.ops.transforms.Transforms.floor(Nd4j.rand(DataType.DOUBLE, n, out).muli(4), false);
            case "gaussian" -> Nd4j.randn(DataType.DOUBLE, n, out / 2);
            default -> Nd4j.randn(DataType.DOUBLE, n, out);
        };
        return new Dataset(x, y);
    }

    static Stream<Problem> randomArchitectures() {
        Random r = new Random(2024);
        Activation[] acts = Activation.values();
        Loss[] losses = {Losses.MSE, Losses.CROSS_ENTROPY, Losses.BCE};
        int[] batches = {1, 2, 7, 100};
        List<Problem> ps = new ArrayList<>();
        for (int c = 0; c < 24; c++) {
            Loss loss = losses[c % losses.length];
            int hidden = 1 + c % 4;
            int in = c % 6 == 0 ? 1 : 1 + r.nextInt(12);
            int out = loss == Losses.CROSS_ENTROPY ? 2 + r.nextInt(4) : (c % 5 == 0 ? 1 : 1 + r.nextInt(4));
            Sequential.Builder b = Sequential.builder(in);
            StringBuilder label = new StringBuilder().append(in);
            for (int h = 0; h < hidden; h++) {
                int w = 1 + r.nextInt(hidden > 2 ? 14 : 40);
                Activation a = acts[(c + h) % acts.length];
                b.dense(w, a);
                label.append('-').append(w).append(a.id());
            }
            b.dense(out, c % 7 == 3 ? Activation.TANH : Activation.IDENTITY);
            Sequential m = b.build();
            int n = batches[c % batches.length];
            label.append('-').append(out).append(' ').append(loss.name()).append(" n=").append(n);
            ps.add(new Problem(label.toString(), m, loss, data(loss, n, in, out, c), m.initialParameters(Init.XAVIER, c).muli(1.5)));
        }
        Sequential g = Sequential.mlp(new int[] {3, 5, 4}, Activation.SOFTPLUS);
        ps.add(new Problem("3-5-4 gaussian", g, Losses.GAUSSIAN, data(Losses.GAUSSIAN, 9, 3, 4, 99), g.initialParameters(Init.XAVIER, 1)));
        Sequential p = Sequential.mlp(new int[] {2, 6, 2}, Activation.TANH);
        ps.add(new Problem("2-6-2 poisson", p, Losses.POISSON, data(Losses.POISSON, 9, 2, 2, 98), p.initialParameters(Init.XAVIER, 2)));
        return ps.stream();
    }

    static INDArray dense(CurvatureOperator op, HessianMethod method) throws Exception {
        return FullHessian.compute(op, FullHessian.Options.defaults().withMethod(method).withBlockSize(64)).matrix();
    }

    static void assertClose(String what, INDArray a, INDArray b, double tol) {
        assertTrue(Comparison.close(a, b, tol), () -> Comparison.describe(what, a, b, tol));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("randomArchitectures")
    void structuredEqualsBlockedAndPerColumnHessian(Problem p) throws Exception {
        HessianOperator op = new HessianOperator(p.model(), p.loss(), p.data(), p.theta(), 0);
        INDArray structured = dense(op, HessianMethod.STRUCTURED);
        INDArray blocked = dense(op, HessianMethod.BLOCKED);
        assertClose(p + ": structured vs blocked", structured, blocked, Tolerances.EXACT);
        if (p.model().parameterCount() <= 300) {
            assertClose(p + ": structured vs per-column", structured, dense(op, HessianMethod.ROWLOOP), Tolerances.EXACT);
        }
        // batching over the data is summed correctly
        HessianOperator batched = new HessianOperator(p.model(), p.loss(), p.data(), p.theta(), 3);
        assertClose(p + ": structured, batches of 3", dense(batched, HessianMethod.STRUCTURED), blocked, Tolerances.EXACT);
    }

    /** Tiny GEMM groups (one input of layer j at a time, first-order terms group by group) give the same matrix. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("randomArchitectures")
    void anyGroupingGivesTheSameMatrix(Problem p) throws Exception {
        HessianOperator op = new HessianOperator(p.model(), p.loss(), p.data(), p.theta(), 0);
        long n = op.size();
        INDArray grouped = Nd4j.zeros(DataType.DOUBLE, n, n);
        StructuredHessian.assemble(op, new int[] {0, p.model().layers().size()}, grouped, new KroneckerWorkspace(40), StructuredHessian.defaultChunk(op),
                NativeGarbage.NONE);
        assertClose(p + ": groups of one input vs default groups", grouped, StructuredHessian.matrix(op), Tolerances.EXACT);
        assertEquals(grouped, grouped.transpose(), p + ": exactly symmetric");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("randomArchitectures")
    void ggnAndObservedFisherAndLayerBlocks(Problem p) throws Exception {
        if (p.model().parameterCount() > 600) {
            return;
        }
        GgnOperator ggn = new GgnOperator(p.model(), p.loss(), p.data(), p.theta(), 0);
        assertClose(p + ": structured GGN vs GGN operator", dense(ggn, HessianMethod.STRUCTURED), ggn.toDense(64), Tolerances.EXACT);
        ObservedFisherOperator fisher = new ObservedFisherOperator(p.model(), p.loss(), p.data(), p.theta(), 0);
        INDArray full = dense(fisher, HessianMethod.STRUCTURED);
        assertClose(p + ": structured observed Fisher vs blocked", full, dense(fisher, HessianMethod.BLOCKED), Tolerances.EXACT);
        long[] off = p.model().layerOffsets();
        for (int k = 0; k < p.model().layers().size(); k++) {
            INDArray sub = full.get(NDArrayIndex.interval(off[k], off[k + 1]), NDArrayIndex.interval(off[k], off[k + 1]));
            assertClose(p + ": layer " + k + " block", StructuredHessian.layerBlock(fisher, k), sub, Tolerances.EXACT);
        }
    }

    /**
     * Regression (issue 10, defect 3): chunks of samples are built one at a time and freed; any chunk
     * size (here about a third of the batch: several chunks per batch, and a last partial chunk) gives
     * the same matrix as one chunk per batch.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("randomArchitectures")
    void chunksOfAnySizeGiveTheSameMatrixAndAreFreed(Problem p) {
        if (p.data().n() < 7) {
            return;
        }
        HessianOperator op = new HessianOperator(p.model(), p.loss(), p.data(), p.theta(), 0);
        long n = op.size();
        int layers = p.model().layers().size();
        int chunk = Math.max(3, p.data().n() / 3);
        INDArray chunked = Nd4j.zeros(DataType.DOUBLE, n, n);
        StructuredHessian.assemble(op, new int[] {0, layers}, chunked, new KroneckerWorkspace(), chunk, NativeGarbage.NONE);
        assertClose(p + ": chunks of " + chunk + " samples vs one chunk", chunked, StructuredHessian.matrix(op), Tolerances.EXACT);
        List<LayerStates> seen = new ArrayList<>();
        StructuredHessian.forEachChunk(op, chunk, NativeGarbage.NONE, st -> {
            assertTrue(seen.isEmpty() || seen.get(seen.size() - 1).m[0].wasClosed(), "the previous chunk is freed before the next is built");
            seen.add(st);
        });
        assertEquals((p.data().n() + chunk - 1) / chunk, seen.size(), "chunks");
        assertTrue(seen.stream().allMatch(st -> st.m[layers - 1].wasClosed() && st.aug[0].wasClosed()), "every chunk freed");
    }

    /**
     * Regression (issue 10, defect 3): the plan accounts for the chunk size: its working memory grows
     * with the samples per chunk, a smaller budget gets smaller chunks (and still the same matrix
     * through the driver), and a budget below one sample's states is refused.
     */
    @Test
    void thePlanChoosesTheChunkFromTheBudget() throws Exception {
        Sequential m = Sequential.mlp(new int[] {4, 12, 9, 3}, Activation.TANH);
        HessianOperator op = new HessianOperator(m, Losses.CROSS_ENTROPY, data(Losses.CROSS_ENTROPY, 200, 4, 3, 8), m.initialParameters(5), 0);
        long[] all = {0, op.size()};
        StructuredHessian.Sizing roomy = StructuredHessian.plan(op, 1e12, 0, all);
        assertEquals(200, roomy.chunkSamples(), "no budget pressure: the whole batch in one chunk");
        long perSample = StructuredHessian.peakPerSampleDoubles(m);
        double tight = StructuredHessian.workingBytes(perSample, 40);
        StructuredHessian.Sizing small = StructuredHessian.plan(op, tight, 0, all);
        assertTrue(small.chunkSamples() < 200 && small.chunkSamples() >= 20 && small.workingBytes() <= tight, small::toString);
        assertTrue(roomy.workingBytes() > small.workingBytes(), "working memory grows with the chunk");
        assertNull(StructuredHessian.plan(op, StructuredHessian.workingBytes(perSample, 1) / 2, 0, all), "less than one sample's states");
        double result = 8.0 * op.size() * op.size();
        FullHessian.Result r = FullHessian.compute(op, FullHessian.Options.defaults().withMethod(HessianMethod.STRUCTURED)
                .withBudget(MemoryBudget.of((long) (result + tight) + MemoryBudget.RUNTIME_RESERVE)));
        assertClose("chunked within the budget vs one chunk", r.matrix(), StructuredHessian.matrix(op), Tolerances.EXACT);
    }

    /**
     * Regression (issue 10, defect 1): the structured block of an operator without a structured form
     * (the empirical Fisher) used to be the Hessian's block; it is refused, and the driver's layer
     * block is the empirical Fisher's, checked against per-sample gradients g_i g_i^T / Z summed.
     */
    @Test
    void aLayerBlockIsTheOperatorsOwnBlock() throws Exception {
        Sequential m = Sequential.mlp(new int[] {3, 4, 2}, Activation.TANH);
        Dataset d = data(Losses.MSE, 6, 3, 2, 4);
        INDArray theta = m.initialParameters(Init.XAVIER, 6);
        EmpiricalFisherOperator ef = new EmpiricalFisherOperator(m, Losses.MSE, d, theta, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StructuredHessian.layerBlock(ef, 1));
        assertTrue(e.getMessage().contains("EmpiricalFisherOperator") && e.getMessage().contains("empirical fisher"), e.getMessage());
        long n = m.parameterCount();
        INDArray expected = Nd4j.zeros(DataType.DOUBLE, n, n);
        for (int i = 0; i < 6; i++) {
            INDArray xi = d.x().get(NDArrayIndex.interval(i, i + 1), NDArrayIndex.all());
            INDArray yi = d.y().get(NDArrayIndex.interval(i, i + 1), NDArrayIndex.all());
            INDArray g = new ModelObjective(m, Losses.MSE, xi, yi, Reduction.SUM).gradient(theta).reshape(n, 1);
            expected.addi(g.mmul(g.transpose()));
        }
        expected.divi(6 * 2);                                           // Z = n * out for mse
        long[] off = m.layerOffsets();
        for (int k = 0; k < 2; k++) {
            INDArray block = FullHessian.compute(ef, FullHessian.Options.defaults().withLayer(k)).matrix();
            INDArray want = expected.get(NDArrayIndex.interval(off[k], off[k + 1]), NDArrayIndex.interval(off[k], off[k + 1]));
            assertClose("empirical Fisher block of layer " + k, block, want, Tolerances.CLOSED_FORM);
        }
        HessianOperator h = new HessianOperator(m, Losses.MSE, d, theta, 4);
        INDArray full = StructuredHessian.matrix(h);
        for (HessianMethod method : new HessianMethod[] {HessianMethod.STRUCTURED, HessianMethod.BLOCKED}) {
            FullHessian.Result r = FullHessian.compute(h, FullHessian.Options.defaults().withMethod(method).withLayer(1));
            assertEquals(method, r.method());
            assertClose(method + " Hessian block of layer 1", r.matrix(),
                    full.get(NDArrayIndex.interval(off[1], off[2]), NDArrayIndex.interval(off[1], off[2])), Tolerances.EXACT);
        }
    }

    /**
     * Regression (issue 10, defect 4): NLL is defined once ({@code Loss#scale}); a loss that states
     * only its per-sample loss and {@code nllPerSum} gets the same observed Fisher from the structured
     * and the blocked method, {@code nllPerSum} times the summed-loss Hessian.
     */
    @Test
    void observedFisherUsesTheOneNllDefinition() throws Exception {
        Loss halfMse = new Loss() {
            @Override
            public String name() {
                return "half-mse";
            }

            @Override
            public Tensor prepare(INDArray y, long outputs) {
                return Losses.MSE.prepare(y, outputs);
            }

            @Override
            public Tensor perSample(Tensor f, Tensor y) {
                return Losses.MSE.perSample(f, y);
            }

            @Override
            public double nllPerSum() {
                return 0.5;
            }

            @Override
            public long normalizer(long n, long outputs) {
                return n * outputs;
            }
        };
        Sequential m = Sequential.mlp(new int[] {3, 5, 2}, Activation.SOFTPLUS);
        Dataset d = data(Losses.MSE, 9, 3, 2, 12);
        INDArray theta = m.initialParameters(Init.XAVIER, 3);
        ObservedFisherOperator fisher = new ObservedFisherOperator(m, halfMse, d, theta, 4);
        assertEquals(0.5, fisher.capabilities().lossScale());
        INDArray structured = dense(fisher, HessianMethod.STRUCTURED);
        assertClose("structured vs blocked observed Fisher", structured, dense(fisher, HessianMethod.BLOCKED), Tolerances.EXACT);
        INDArray summed = Autodiff.hessian(new ModelObjective(m, Losses.MSE, d, Reduction.SUM)).apply(Tensor.of(theta)).array();
        assertClose("observed Fisher = nllPerSum x summed Hessian", structured, summed.mul(0.5), Tolerances.EXACT);
    }

    /** A loss without closed-form output derivatives (ce through delegation): the engine supplies them. */
    static Loss withoutClosedForms(Loss inner) {
        return new Loss() {
            @Override
            public String name() {
                return inner.name();
            }

            @Override
            public Tensor prepare(INDArray y, long outputs) {
                return inner.prepare(y, outputs);
            }

            @Override
            public Tensor evaluate(Tensor f, Tensor y, Reduction r) {
                return inner.evaluate(f, y, r);
            }

            @Override
            public Tensor perSample(Tensor f, Tensor y) {
                return inner.perSample(f, y);
            }

            @Override
            public long normalizer(long n, long outputs) {
                return inner.normalizer(n, outputs);
            }
        };
    }

    @Test
    void lossesWithoutClosedFormDerivativesGoThroughTheEngine() throws Exception {
        Sequential m = Sequential.mlp(new int[] {3, 5, 4, 3}, Activation.TANH);
        Loss loss = withoutClosedForms(Losses.CROSS_ENTROPY);
        HessianOperator op = new HessianOperator(m, loss, data(Losses.CROSS_ENTROPY, 11, 3, 3, 5), m.initialParameters(Init.XAVIER, 4), 0);
        assertClose("structured via the engine vs blocked", dense(op, HessianMethod.STRUCTURED), dense(op, HessianMethod.BLOCKED), Tolerances.EXACT);
        GgnOperator ggn = new GgnOperator(m, loss, data(Losses.CROSS_ENTROPY, 11, 3, 3, 5), m.initialParameters(Init.XAVIER, 4), 0);
        assertClose("structured GGN via the engine", StructuredHessian.matrix(ggn), ggn.toDense(64), Tolerances.EXACT);
    }

    @Test
    void matrixEqualsTheDriversResult() throws Exception {
        Sequential m = Sequential.mlp(new int[] {2, 4, 3, 2}, Activation.GELU);
        HessianOperator op = new HessianOperator(m, Losses.BCE, data(Losses.BCE, 7, 2, 2, 3), m.initialParameters(2), 3);
        assertEquals(dense(op, HessianMethod.STRUCTURED), StructuredHessian.matrix(op));
    }

    @Test
    void autoChoosesStructuredForDenseNetworks() throws Exception {
        Sequential m = Sequential.mlp(new int[] {2, 3, 1}, Activation.TANH);
        HessianOperator op = new HessianOperator(m, Losses.MSE, data(Losses.MSE, 5, 2, 1, 1), m.initialParameters(1), 0);
        assertEquals(HessianMethod.STRUCTURED, FullHessian.compute(op, FullHessian.Options.defaults()).method());
    }
}
