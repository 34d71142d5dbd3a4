package dev.curvlab.spark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Comparison;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.inference.FisherInference;
import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.curvature.spectrum.Lanczos;
import dev.curvlab.curvature.spectrum.EigensolverOptions;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.io.ModelFile;
import dev.curvlab.nn.io.ModelSpec;
import dev.curvlab.nn.io.NpyFile;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.spark.LocalSpark;
import dev.curvlab.spark.operator.OperatorKind;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The curvlab-spark commands in this JVM (one shared local[2] session), against the single-machine
 * curvature code on the same files; bad input as one line with no output file.
 */
class CurvlabSparkCliTest {
    private static SparkSession spark;
    @TempDir
    static Path dir;
    private static final ModelSpec SPEC = LocalSpark.spec(new int[] {3, 4, 3}, Activation.TANH, Losses.CROSS_ENTROPY);
    private static final Dataset DATA = LocalSpark.data(SPEC, 30, 5);
    private static final INDArray THETA = SPEC.model().initialParameters(4);

    record Run(int code, String out, String err) {
    }

    @BeforeAll
    static void start() throws IOException {
        spark = LocalSpark.start("local[2]");
        ModelFile.write(dir.resolve("model.json"), dir.resolve("params.npy"), SPEC, THETA);
        NpyFile.write(dir.resolve("X.npy"), DATA.x());
        NpyFile.write(dir.resolve("Y.npy"), DATA.y());
        Files.createDirectories(dir.resolve("shards"));
        int[] cuts = {0, 12, 12, 30};   // three shard pairs, one of them empty
        for (int s = 0; s < 3; s++) {
            NpyFile.write(dir.resolve("shards/X-" + s + ".npy"), DATA.x().get(NDArrayIndex.interval(cuts[s], cuts[s + 1]), NDArrayIndex.all()));
            NpyFile.write(dir.resolve("shards/Y-" + s + ".npy"), DATA.y().get(NDArrayIndex.interval(cuts[s], cuts[s + 1])));
        }
        StringBuilder csv = new StringBuilder("a,b,c,label\n");
        for (int i = 0; i < DATA.n(); i++) {
            csv.append(String.format(Locale.ROOT, "%.17g,%.17g,%.17g,%d%n", DATA.x().getDouble(i, 0), DATA.x().getDouble(i, 1), DATA.x().getDouble(i, 2),
                    (int) DATA.y().getDouble(i)));
        }
        Files.writeString(dir.resolve("data.csv"), csv);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static Run run(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--model", dir.resolve("model.json").toString(), "--params", dir.resolve("params.npy").toString(), "--master", "local[2]"));
        if (!all.contains("--data") && !all.contains("--x")) {
            all.addAll(List.of("--x", dir.resolve("X.npy").toString(), "--y", dir.resolve("Y.npy").toString(), "--partitions", "3"));
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = CurvlabSparkCommand.execute(all.toArray(new String[0]), new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    private static String f(String name) {
        return dir.resolve(name).toString();
    }

    @Test
    void gradientFromNpyShardsCsvAndParquetEqualsTheSingleMachineGradient() throws IOException {
        INDArray expected = new ModelObjective(SPEC.model(), SPEC.loss(), DATA, Reduction.MEAN).gradient(THETA);
        Run npy = run("gradient", "--out", f("g1.npy"));
        Run shards = run("gradient", "--out", f("g2.npy"), "--x", f("shards/X-*.npy"), "--y", f("shards/Y-*.npy"));
        Run csv = run("gradient", "--out", f("g3.npy"), "--data", f("data.csv"), "--target", "label", "--partitions", "2");
        spark.read().option("header", "true").option("inferSchema", "true").csv(f("data.csv")).write().parquet(f("data.parquet"));
        Run parquet = run("gradient", "--out", f("g4.npy"), "--data", f("data.parquet"), "--format", "parquet");
        for (Run r : List.of(npy, shards, csv, parquet)) {
            assertEquals(0, r.code(), r.err());
        }
        for (String g : List.of("g1.npy", "g2.npy", "g3.npy", "g4.npy")) {
            INDArray actual = NpyFile.read(dir.resolve(g));
            assertTrue(Comparison.close(actual, expected, Tolerances.EXACT), Comparison.describe(g, actual, expected, Tolerances.EXACT));
        }
    }

    @Test
    void hvpEigsAndHessianEqualTheSingleMachineResults() throws IOException {
        CurvatureOperator single = OperatorKind.HESSIAN.build(SPEC.model(), SPEC.loss(), DATA, THETA, 0);
        INDArray v = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.DOUBLE, THETA.length(), 2);
        NpyFile.write(dir.resolve("V.npy"), v);
        Run hvp = run("hvp", "--v", f("V.npy"), "--out", f("HV.npy"), "--batch-size", "7");
        assertEquals(0, hvp.code(), hvp.err());
        INDArray hv = NpyFile.read(dir.resolve("HV.npy"));
        assertTrue(Comparison.close(hv, single.matmat(v), Tolerances.EXACT));

        Run eigs = run("eigs", "--k", "2", "--seed", "1", "--out", f("eigs.npy"));
        assertEquals(0, eigs.code(), eigs.err());
        double[] expected = Lanczos.extremal(single, 2, Lanczos.Which.LARGEST, EigensolverOptions.defaults().withSeed(1)).values();
        double[] actual = NpyFile.read(dir.resolve("eigs.npy")).toDoubleVector();
        for (int i = 0; i < 2; i++) {
            assertEquals(expected[i], actual[i], 1e-10 * Math.abs(expected[i]));
        }

        Run hessian = run("hessian", "--out", f("H.npy"));
        assertEquals(0, hessian.code(), hessian.err());
        assertTrue(hessian.out().contains("by structured"), hessian.out());
        INDArray h = NpyFile.read(dir.resolve("H.npy"));
        INDArray dense = FullHessian.compute(single, FullHessian.Options.defaults()).matrix();
        assertTrue(Comparison.close(h, dense, Tolerances.EXACT));
        assertFalse(Files.exists(dir.resolve("H.npy.bands")), "scratch bands removed");

        Run rows = run0("bands", "--dir", f("H.npy.missing"), "--assemble", f("nothing.npy"));
        assertEquals(1, rows.code());
        assertFalse(Files.exists(dir.resolve("nothing.npy")));
    }

    @Test
    void fisherStandardErrorsEqualTheSingleMachineOnes() throws IOException {
        ModelSpec logistic = LocalSpark.spec(new int[] {3, 1}, Activation.TANH, Losses.BCE);
        Dataset d = LocalSpark.data(logistic, 40, 8);
        INDArray theta = logistic.model().initialParameters(2);
        Path sub = Files.createDirectories(dir.resolve("logistic"));
        ModelFile.write(sub.resolve("model.json"), sub.resolve("params.npy"), logistic, theta);
        NpyFile.write(sub.resolve("X.npy"), d.x());
        NpyFile.write(sub.resolve("Y.npy"), d.y());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = CurvlabSparkCommand.execute(new String[] {"fisher", "--se", sub.resolve("se.npy").toString(), "--out-dir", sub.resolve("bands").toString(),
                "--model", sub.resolve("model.json").toString(), "--params", sub.resolve("params.npy").toString(), "--x", sub.resolve("X.npy").toString(),
                "--y", sub.resolve("Y.npy").toString(), "--partitions", "2"}, new PrintWriter(out), new PrintWriter(err));
        assertEquals(0, code, err.toString());
        INDArray expected = FisherInference.standardErrors(OperatorKind.OBSERVED_FISHER.build(logistic.model(), logistic.loss(), d, theta, 0).toDense(16));
        INDArray actual = NpyFile.read(sub.resolve("se.npy"));
        assertTrue(Comparison.close(actual, expected, Tolerances.CLOSED_FORM), Comparison.describe("se", actual, expected, Tolerances.CLOSED_FORM));
        assertTrue(Files.exists(sub.resolve("bands/manifest.json")));
    }

    @Test
    void badInputIsOneLineAndLeavesNoOutput() throws IOException {
        assertOneLineError(run("gradient", "--out", f("bad1.npy"), "--x", f("nope.npy"), "--y", f("Y.npy")), "nope.npy: file does not exist (--x)");
        NpyFile.write(dir.resolve("X4.npy"), Nd4j.zeros(DATA.n(), 4));
        assertOneLineError(run("gradient", "--out", f("bad1.npy"), "--x", f("X4.npy"), "--y", f("Y.npy")), "has 4 input columns");
        INDArray y = DATA.y().dup();
        y.putScalar(17, 5);   // class 5 of 3
        NpyFile.write(dir.resolve("Ybad.npy"), y);
        assertOneLineError(run("eigs", "--k", "1", "--out", f("bad1.npy"), "--x", f("X.npy"), "--y", f("Ybad.npy"), "--partitions", "2"), "partition 1");
        Files.writeString(dir.resolve("bad.csv"), "a,b,c,label\n1,2,3,0\n1,x,3,1\n");
        assertOneLineError(run("gradient", "--out", f("bad1.npy"), "--data", f("bad.csv")), "non-numeric");
        assertFalse(Files.exists(dir.resolve("bad1.npy")));
        // a band directory of another problem is refused and left as it was
        Path other = dir.resolve("other");
        assertEquals(0, run("ggn", "--out-dir", other.toString()).code());
        String manifest = Files.readString(other.resolve("manifest.json"));
        assertOneLineError(run("hessian", "--out-dir", other.toString()), "different problem");
        assertEquals(manifest, Files.readString(other.resolve("manifest.json")));
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".partial")));
        }
        Run usage = run("eigs", "--k", "0");
        assertEquals(2, usage.code());
    }

    private static Run run0(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = CurvlabSparkCommand.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    private static void assertOneLineError(Run r, String fragment) {
        assertEquals(1, r.code(), r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line: " + err);
        assertTrue(err.startsWith("curvlab-spark: error: ") && err.contains(fragment), err);
    }
}
