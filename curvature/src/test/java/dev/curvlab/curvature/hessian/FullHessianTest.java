package dev.curvlab.curvature.hessian;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.Autodiff;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.check.Comparison;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.curvature.operator.DenseOperator;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.curvature.progress.ProgressListener;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.io.NpyFile;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class FullHessianTest {
    @TempDir
    Path dir;

    static HessianOperator problem() {
        Sequential m = Sequential.mlp(new int[] {4, 9, 7, 3}, Activation.TANH);   // N = 45 + 70 + 24 = 139
        Dataset d = StructuredHessianTest.data(Losses.CROSS_ENTROPY, 30, 4, 3, 5);
        return new HessianOperator(m, Losses.CROSS_ENTROPY, d, m.initialParameters(3), 8);
    }

    /** Throws after {@code after} progress reports, like an interruption mid-run. */
    static ProgressListener interruptAfter(int after) {
        int[] calls = {0};
        return (task, done, total) -> {
            if (++calls[0] == after) {
                throw new IllegalStateException("simulated interruption at " + done + "/" + total);
            }
        };
    }

    @Test
    void blockedAndPerColumnMethodsAgreeWithTheEngineHessian() throws Exception {
        HessianOperator op = problem();
        ModelObjective obj = new ModelObjective(op.model(), op.loss(), new Dataset(
                Nd4j.vstack(op.batches().stream().map(b -> b.x().array()).toArray(INDArray[]::new)),
                Nd4j.vstack(op.batches().stream().map(b -> b.preparedTargets().array()).toArray(INDArray[]::new)).argMax(1).castTo(DataType.DOUBLE)),
                Reduction.MEAN);
        INDArray reference = Autodiff.hessian(obj).apply(Tensor.of(op.parameters())).array();
        for (HessianMethod m : HessianMethod.values()) {
            FullHessian.Result r = FullHessian.compute(op, FullHessian.Options.defaults().withMethod(m).withBlockSize(16));
            assertTrue(Comparison.close(r.matrix(), reference, Tolerances.EXACT), () -> Comparison.describe(m.name(), r.matrix(), reference, Tolerances.EXACT));
            assertTrue(r.asymmetry() < 1e-15, m + " asymmetry " + r.asymmetry());
        }
        FullHessian.Result sym = FullHessian.compute(op, FullHessian.Options.defaults().withMethod(HessianMethod.BLOCKED).withSymmetrize(true));
        assertEquals(sym.matrix(), sym.matrix().transpose());
    }

    @Test
    void resumingAfterAnInterruptionGivesTheIdenticalMatrix() throws Exception {
        for (HessianMethod m : new HessianMethod[] {HessianMethod.BLOCKED, HessianMethod.STRUCTURED}) {
            HessianOperator op = problem();
            Path cp = dir.resolve("cp-" + m);
            Path out = dir.resolve("h-" + m + ".npy");
            INDArray straight = FullHessian.compute(op, FullHessian.Options.defaults().withMethod(m).withBlockSize(32)).matrix();
            FullHessian.Options interrupted = FullHessian.Options.defaults().withMethod(m).withBlockSize(32).withCheckpoint(cp).withOut(out).withProgress(interruptAfter(2));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> FullHessian.compute(op, interrupted));
            assertTrue(e.getMessage().contains("simulated"), e.getMessage());
            assertFalse(Files.exists(out), m + ": no output file may exist after an interruption");
            assertTrue(Files.exists(cp.resolve("progress.json")), m + ": progress recorded");
            FullHessian.Result resumed = FullHessian.compute(op, FullHessian.Options.defaults().withMethod(m).withBlockSize(32).withCheckpoint(cp).withOut(out));
            assertTrue(resumed.resumed(), m + " resumed");
            assertEquals(straight, resumed.matrix(), m + ": resumed matrix must be identical");
            assertEquals(straight, NpyFile.read(out), m + ": file must hold the identical matrix");
            assertFalse(Files.exists(cp.resolve("progress.json")), m + ": checkpoint cleared after completion");
        }
    }

    @Test
    void checkpointOfAnotherProblemIsRefused() throws Exception {
        HessianOperator op = problem();
        Path cp = dir.resolve("cp");
        assertThrows(IllegalStateException.class, () -> FullHessian.compute(op,
                FullHessian.Options.defaults().withMethod(HessianMethod.BLOCKED).withBlockSize(32).withCheckpoint(cp).withProgress(interruptAfter(1))));
        Sequential other = Sequential.mlp(new int[] {4, 9, 7, 3}, Activation.TANH);
        HessianOperator different = new HessianOperator(other, Losses.CROSS_ENTROPY, StructuredHessianTest.data(Losses.CROSS_ENTROPY, 30, 4, 3, 5),
                other.initialParameters(4), 8);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> FullHessian.compute(different,
                FullHessian.Options.defaults().withMethod(HessianMethod.BLOCKED).withCheckpoint(cp)));
        assertTrue(e.getMessage().contains("different problem"), e.getMessage());
    }

    /**
     * Regression (issue 10, defect 2): the blocked method stored computed columns as rows whatever the
     * operator; a non-symmetric operator came back transposed. It is assembled by columns now, in
     * memory and to a file, and refused for checkpoints.
     */
    @Test
    void aNonSymmetricOperatorComesBackAsItIs() throws Exception {
        INDArray a = Nd4j.create(new double[][] {{1, 2}, {0, 3}});
        DenseOperator op = new DenseOperator(a);
        assertFalse(op.capabilities().symmetric());
        FullHessian.Result r = FullHessian.compute(op, FullHessian.Options.defaults().withBlockSize(1));
        assertEquals(a, r.matrix());
        assertEquals(2.0, r.asymmetry());
        Path out = dir.resolve("a.npy");
        FullHessian.compute(op, FullHessian.Options.defaults().withOut(out));
        assertEquals(a, NpyFile.read(out));
        assertEquals(a.get(NDArrayIndex.interval(1, 2), NDArrayIndex.interval(1, 2)),
                FullHessian.compute(op, FullHessian.Options.defaults().withParameters(1, 2)).matrix());
        assertThrows(IllegalArgumentException.class, () -> FullHessian.compute(op, FullHessian.Options.defaults().withCheckpoint(dir.resolve("cp"))));
        assertThrows(IllegalArgumentException.class, () -> FullHessian.compute(op, FullHessian.Options.defaults().withMethod(HessianMethod.STRUCTURED)));
    }

    @Test
    void preflightRefusesAnImpossibleSizeBeforeAnyWork() {
        HessianOperator op = problem();
        List<Long> progress = new ArrayList<>();
        HessianTooLargeException e = assertThrows(HessianTooLargeException.class, () -> FullHessian.compute(op,
                FullHessian.Options.defaults().withBudget(MemoryBudget.of(100_000)).withProgress((t, d, n) -> progress.add(d))));
        assertTrue(e.getMessage().contains("N = 139") && e.getMessage().contains("--out") && e.getMessage().contains("eigs"), e.getMessage());
        assertTrue(progress.isEmpty(), "no work may start");
        assertEquals("1.5 GB", MemoryBudget.format(1.5 * (1L << 30)));
        assertEquals(12L << 30, MemoryBudget.parse("12G").bytes());
        assertThrows(IllegalArgumentException.class, () -> MemoryBudget.parse("lots"));
    }

    /**
     * Regression (issue 10, defect 6): the plan's arithmetic. A budget of exactly the result
     * (N^2 x 8 bytes), the blocked method's working memory (k columns) and the runtime reserve holds
     * the matrix in memory and plans that working memory for the garbage guard; one byte less is refused
     * (without --out) before any product, naming the reserve.
     */
    @Test
    void thePlanCountsResultWorkingMemoryAndTheRuntimeReserve() throws Exception {
        HessianOperator op = problem();
        long n = op.size();
        int k = 4;
        long[] all = {0, n};
        double perColumn = FullHessian.workingBytesPerColumn(op);
        long exact = (long) Math.ceil(8.0 * n * n + k * perColumn) + MemoryBudget.RUNTIME_RESERVE;
        FullHessian.Plan plan = FullHessian.preflight(op, all, k, perColumn, HessianMethod.BLOCKED,
                FullHessian.Options.defaults().withBudget(MemoryBudget.of(exact)));
        assertTrue(plan.inMemory(), "result + working memory + reserve fits exactly");
        assertEquals(k * perColumn, plan.workingBytes(), 0.0, "the guard's limit is the method's working memory");
        HessianTooLargeException e = assertThrows(HessianTooLargeException.class, () -> FullHessian.preflight(op, all, k, perColumn,
                HessianMethod.BLOCKED, FullHessian.Options.defaults().withBudget(MemoryBudget.of(exact - 1))));
        assertTrue(e.getMessage().contains(MemoryBudget.format(MemoryBudget.RUNTIME_RESERVE) + " for the running JVM"), e::getMessage);
    }

    @Test
    void matrixLargerThanTheBudgetStreamsToDisk() throws Exception {
        HessianOperator op = problem();
        for (HessianMethod m : new HessianMethod[] {HessianMethod.BLOCKED, HessianMethod.STRUCTURED}) {
            INDArray inMemory = FullHessian.compute(op, FullHessian.Options.defaults().withMethod(m).withBlockSize(2)).matrix();
            Path out = dir.resolve("streamed-" + m + ".npy");
            FullHessian.Result r = FullHessian.compute(op, FullHessian.Options.defaults().withMethod(m).withBlockSize(2)
                    .withBudget(MemoryBudget.of(MemoryBudget.RUNTIME_RESERVE + 200_000)).withOut(out));
            assertNull(r.matrix(), m + ": streamed, not held in memory");
            assertEquals(inMemory, NpyFile.read(out), m.toString());
            assertArrayEquals(new long[] {139, 139}, NpyFile.read(out).shape());
        }
    }

    @Test
    void inMemoryResultWithAFileHasTheFilesValues() throws Exception {
        HessianOperator op = problem();
        for (HessianMethod m : new HessianMethod[] {HessianMethod.BLOCKED, HessianMethod.STRUCTURED}) {
            INDArray alone = FullHessian.compute(op, FullHessian.Options.defaults().withMethod(m).withBlockSize(16)).matrix();
            Path out = dir.resolve("kept-" + m + ".npy");
            FullHessian.Result r = FullHessian.compute(op, FullHessian.Options.defaults().withMethod(m).withBlockSize(16).withOut(out));
            assertEquals(alone, r.matrix(), m + ": the matrix");
            assertEquals(alone, NpyFile.read(out), m + ": the file");
            assertFalse(Files.exists(dir.resolve("kept-" + m + ".npy.partial")), "no partial file left");
            r.matrix().addi(1.0);                              // changing the result in memory leaves the file alone
            assertEquals(alone.add(1.0), r.matrix(), m + ": the changed matrix");
            assertEquals(alone, NpyFile.read(out), m + ": the file after changing the matrix");
        }
    }

    @Test
    void failureWithoutCheckpointLeavesNoFileBehind() {
        HessianOperator op = problem();
        Path out = dir.resolve("h.npy");
        assertThrows(IllegalStateException.class, () -> FullHessian.compute(op,
                FullHessian.Options.defaults().withMethod(HessianMethod.BLOCKED).withBlockSize(16).withOut(out).withProgress(interruptAfter(3))));
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(dir.resolve("h.npy.partial")));
    }

    @Test
    void optionsAreImmutableCopiesValidatedWhenBuilt() {
        FullHessian.Options base = FullHessian.Options.defaults();
        FullHessian.Options blocked = base.withMethod(HessianMethod.BLOCKED).withBlockSize(8).withLayer(1);
        assertEquals(HessianMethod.AUTO, base.method(), "a with* call leaves the original unchanged");
        assertEquals(0, base.blockSize());
        assertEquals(-1, base.layer());
        assertEquals(HessianMethod.BLOCKED, blocked.method());
        assertEquals(8, blocked.blockSize());
        assertEquals(1, blocked.layer());
        FullHessian.Options range = blocked.withParameters(3, 7);
        assertEquals(-1, range.layer(), "a parameter range replaces the layer");
        assertArrayEquals(new long[] {3, 7}, new long[] {range.rangeStart(), range.rangeEnd()});
        assertThrows(IllegalArgumentException.class, () -> base.withBlockSize(-1));
        assertThrows(IllegalArgumentException.class, () -> base.withParameters(5, 5));
        assertThrows(IllegalArgumentException.class, () -> base.withMethod(null));
    }
}
