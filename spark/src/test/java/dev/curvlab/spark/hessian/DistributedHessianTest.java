package dev.curvlab.spark.hessian;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Comparison;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.hessian.HessianMethod;
import dev.curvlab.curvature.hessian.MemoryBudget;
import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.io.ModelSpec;
import dev.curvlab.nn.io.NpyFile;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.spark.LocalSpark;
import dev.curvlab.spark.data.InvalidDataException;
import dev.curvlab.spark.data.Shard;
import dev.curvlab.spark.operator.OperatorKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Banded dense matrices on local[2,2] (a task may fail once and be retried). Oracles: the
 * single-machine FullHessian by the same method (bit for bit: each band is the same computation),
 * a clean run's band files (byte for byte) after injected task failures and an aborted job, and
 * the in-memory structured matrix (to {@link Tolerances#EXACT}).
 */
class DistributedHessianTest {
    private static SparkSession spark;
    private static JavaSparkContext sc;
    static final AtomicInteger INJECTED = new AtomicInteger();

    private static final ModelSpec SPEC = LocalSpark.spec(new int[] {3, 5, 4, 3}, Activation.TANH, Losses.CROSS_ENTROPY);
    private static final Dataset DATA = LocalSpark.data(SPEC, 40, 11);
    private static final INDArray THETA = SPEC.model().initialParameters(2);

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start("local[2,2]");
        sc = LocalSpark.context(spark);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private DistributedHessian.Result run(OperatorKind kind, Path dir, DistributedHessian.Options o) throws IOException {
        return DistributedHessian.compute(sc, Shard.of(DATA), kind, SPEC, THETA, dir.toString(), o);
    }

    @Test
    void structuredLayerBandsAreBitIdenticalToTheStreamedSingleMachineMatrix() throws IOException {
        DistributedHessian.Result r = run(OperatorKind.HESSIAN, tmp.resolve("h"), DistributedHessian.Options.defaults().withBatchSize(16));
        assertEquals("structured", r.manifest().method());
        assertEquals(3, r.manifest().bands().size());
        INDArray banded = HessianBands.open(r.directory()).matrix(MemoryBudget.of(1L << 30));
        CurvatureOperator op = OperatorKind.HESSIAN.build(SPEC.model(), SPEC.loss(), DATA, THETA, 16);
        INDArray streamed = FullHessian.compute(op, FullHessian.Options.defaults().withMethod(HessianMethod.STRUCTURED)
                .withCheckpoint(Files.createDirectories(tmp.resolve("cp")))).matrix();
        assertArrayEquals(streamed.data().asDouble(), banded.dup('c').data().asDouble());
        INDArray inMemory = FullHessian.compute(op, FullHessian.Options.defaults().withMethod(HessianMethod.STRUCTURED)).matrix();
        assertTrue(Comparison.close(banded, inMemory, Tolerances.EXACT), Comparison.describe("banded", banded, inMemory, Tolerances.EXACT));
    }

    @Test
    void blockedBandsAreBitIdenticalToTheSingleMachineBlockedMatrix() throws IOException {
        // the empirical Fisher has no structured method: AUTO picks blocked
        DistributedHessian.Result r = run(OperatorKind.EMPIRICAL_FISHER, tmp.resolve("f"), DistributedHessian.Options.defaults().withBandRows(9));
        assertEquals("blocked", r.manifest().method());
        assertEquals((SPEC.model().parameterCount() + 8) / 9, r.manifest().bands().size());
        INDArray banded = HessianBands.open(r.directory()).matrix(MemoryBudget.of(1L << 30));
        CurvatureOperator op = OperatorKind.EMPIRICAL_FISHER.build(SPEC.model(), SPEC.loss(), DATA, THETA, 0);
        INDArray single = FullHessian.compute(op, FullHessian.Options.defaults().withMethod(HessianMethod.BLOCKED).withBlockSize(9)).matrix();
        assertArrayEquals(single.dup('c').data().asDouble(), banded.dup('c').data().asDouble());
    }

    @Test
    void aTaskThatFailsOnceIsRetriedAndGivesIdenticalBands() throws IOException {
        DistributedHessian.Options blocked = DistributedHessian.Options.defaults().withMethod(HessianMethod.BLOCKED).withBandRows(16);
        DistributedHessian.Result clean = run(OperatorKind.GGN, tmp.resolve("clean"), blocked);
        INJECTED.set(0);
        DistributedHessian.Result retried = run(OperatorKind.GGN, tmp.resolve("retried"), DistributedHessian.Options.defaults()
                .withMethod(HessianMethod.BLOCKED).withBandRows(16).withHook(DistributedHessianTest::failFirstAttemptOfBandOne));
        assertEquals(1, INJECTED.get(), "the injected failure ran");
        assertEquals(clean.manifest(), retried.manifest());
        assertSameBandFiles(Path.of(clean.directory()), Path.of(retried.directory()));
    }

    @Test
    void aJobKilledMidwayIsResumedAndGivesIdenticalBands() throws IOException {
        DistributedHessian.Options blocked = DistributedHessian.Options.defaults().withMethod(HessianMethod.BLOCKED).withBandRows(8);
        DistributedHessian.Result clean = run(OperatorKind.HESSIAN, tmp.resolve("clean"), blocked);
        Path dir = tmp.resolve("killed");
        // every attempt of the bands from 3 on fails: the job is aborted after some bands are written
        assertThrows(Exception.class, () -> run(OperatorKind.HESSIAN, dir, DistributedHessian.Options.defaults().withMethod(HessianMethod.BLOCKED)
                .withBandRows(8).withHook(DistributedHessianTest::failFromBandThree)));
        assertFalse(Files.exists(dir.resolve("band-00003.npy")));
        InvalidDataException incomplete = assertThrows(InvalidDataException.class, () -> HessianBands.open(dir.toString()));
        assertTrue(incomplete.getMessage().contains("incomplete"), incomplete.getMessage());
        Files.write(dir.resolve(".band-00004.npy.stale.tmp"), new byte[] {1, 2, 3});   // as a task killed mid-copy leaves
        long before = bandFiles(dir).size();
        DistributedHessian.Result resumed = run(OperatorKind.HESSIAN, dir, blocked);
        assertEquals(before, resumed.skipped());
        assertEquals(clean.manifest().bands().size() - before, resumed.computed());
        assertSameBandFiles(Path.of(clean.directory()), dir);
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary files left");
        }
    }

    @Test
    void aDirectoryOfAnotherProblemIsRefusedAndLeftAlone() throws IOException {
        Path dir = tmp.resolve("h");
        run(OperatorKind.GGN, dir, DistributedHessian.Options.defaults());
        String manifest = Files.readString(dir.resolve(BandManifest.FILE));
        InvalidDataException e = assertThrows(InvalidDataException.class,
                () -> DistributedHessian.compute(sc, Shard.of(DATA), OperatorKind.GGN, SPEC, THETA.mul(2), dir.toString(), DistributedHessian.Options.defaults()));
        assertTrue(e.getMessage().contains("different problem"), e.getMessage());
        assertEquals(manifest, Files.readString(dir.resolve(BandManifest.FILE)));
    }

    @Test
    void rowRangesAndTheAssembledFileMatchTheMatrix() throws IOException {
        DistributedHessian.Result r = run(OperatorKind.OBSERVED_FISHER, tmp.resolve("o"), DistributedHessian.Options.defaults());
        HessianBands bands = HessianBands.open(r.directory());
        INDArray all = bands.matrix(MemoryBudget.of(1L << 30));
        long n = bands.size();
        INDArray middle = bands.rows(5, n - 3);   // crosses all three layer bands
        assertEquals(all.get(NDArrayIndex.interval(5, n - 3), NDArrayIndex.all()), middle);
        Path file = bands.assemble(tmp.resolve("fisher.npy"));
        assertEquals(all, NpyFile.read(file));
        assertFalse(Files.exists(tmp.resolve("fisher.npy.partial")));
        assertThrows(InvalidDataException.class, () -> bands.rows(0, n + 1));
        InvalidDataException tooBig = assertThrows(InvalidDataException.class, () -> bands.matrix(MemoryBudget.of(1000)));
        assertTrue(tooBig.getMessage().contains("memory budget"), tooBig.getMessage());
    }

    static void failFirstAttemptOfBandOne(int band) {
        if (band == 1 && TaskContext.get().attemptNumber() == 0) {
            INJECTED.incrementAndGet();
            throw new IllegalStateException("injected failure of band 1, attempt 0");
        }
    }

    static void failFromBandThree(int band) {
        if (band >= 3) {
            throw new IllegalStateException("injected failure of band " + band);
        }
    }

    private static List<Path> bandFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches("band-\\d{5}\\.npy")).sorted().toList();
        }
    }

    private static void assertSameBandFiles(Path a, Path b) throws IOException {
        List<Path> fa = bandFiles(a);
        List<Path> fb = bandFiles(b);
        assertEquals(fa.stream().map(Path::getFileName).toList(), fb.stream().map(Path::getFileName).toList());
        for (int i = 0; i < fa.size(); i++) {
            assertArrayEquals(Files.readAllBytes(fa.get(i)), Files.readAllBytes(fb.get(i)), "band file " + fa.get(i).getFileName());
        }
    }
}
