package dev.curvlab.curvature.cli;

import org.nd4j.linalg.api.buffer.DataType;

import org.nd4j.linalg.factory.Nd4j;

import dev.curvlab.nn.loss.Losses;

import dev.curvlab.nn.model.Activation;

import dev.curvlab.nn.model.Sequential;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.Autodiff;
import dev.curvlab.core.Rowwise;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.check.Comparison;
import dev.curvlab.curvature.inference.FisherInference;
import dev.curvlab.curvature.operator.EmpiricalFisherOperator;
import dev.curvlab.curvature.operator.GgnOperator;
import dev.curvlab.curvature.operator.ObservedFisherOperator;
import dev.curvlab.curvature.spectrum.SymmetricEigen;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.io.NpyFile;
import dev.curvlab.nn.loss.Reduction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Each command's output against the library call it wraps. */
class CurvlabCliTest {
    private static final double TOL = 1e-10;

    @TempDir
    Path dir;

    static void assertClose(String what, INDArray actual, INDArray expected, double tol) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        assertTrue(Comparison.close(actual, expected, tol), () -> Comparison.describe(what, actual, expected, tol));
    }

    static CliFixture.Run ok(String... args) {
        CliFixture.Run r = CliFixture.run(args);
        assertEquals(0, r.code(), () -> String.join(" ", args) + "\n" + r);
        assertFalse(r.err().contains("curvlab: error"), r::toString);
        return r;
    }

    /** The dense Hessian of the mean loss by the core engine (jacfwd of jacrev), independent of FullHessian. */
    static INDArray denseHessian(CliFixture f) {
        ModelObjective obj = new ModelObjective(f.model(), f.loss(), f.data(), Reduction.MEAN);
        return Autodiff.hessian(obj).apply(Tensor.of(f.theta())).array();
    }

    @Test
    void gradientMatchesModelObjective() throws Exception {
        CliFixture f = CliFixture.mse(dir);
        ModelObjective obj = new ModelObjective(f.model(), f.loss(), f.data(), Reduction.MEAN);
        Path out = f.file("g.npy");
        CliFixture.Run r = ok(f.args("gradient", "--out", out));
        assertClose("gradient", NpyFile.read(out), obj.gradient(f.theta()), TOL);
        assertTrue(r.out().contains("loss = "), r::toString);
        assertEquals(obj.value(f.theta()), number(r.out(), "loss = "), 1e-12);
        assertEquals(obj.gradient(f.theta()).norm2Number().doubleValue(), number(r.out(), "gradient norm = "), 1e-12);
        Path batched = f.file("g3.npy");
        ok(f.args("gradient", "--out", batched, "--batch-size", 3));
        assertClose("batched gradient", NpyFile.read(batched), obj.gradient(f.theta()), TOL);
    }

    @Test
    void engineOptionChoosesTheEngineAndBothAgree() throws Exception {
        CliFixture f = CliFixture.ce(dir);
        INDArray[] grads = new INDArray[2];
        INDArray[] eigs = new INDArray[2];
        String[] engines = {"layers", "generic"};
        for (int e = 0; e < 2; e++) {
            Path g = f.file("g-" + engines[e] + ".npy");
            Path ev = f.file("e-" + engines[e] + ".npy");
            ok(f.args("gradient", "--out", g, "--engine", engines[e]));
            ok(f.args("eigs", "--k", 2, "--out", ev, "--engine", engines[e], "--batch-size", 5));
            grads[e] = NpyFile.read(g);
            eigs[e] = NpyFile.read(ev);
        }
        assertClose("gradient, layers vs generic engine", grads[0], grads[1], 1e-12);
        assertClose("top eigenvalues, layers vs generic engine", eigs[0], eigs[1], 1e-9);
        CliFixture.Run bad = CliFixture.run(f.args("trace", "--engine", "fast"));
        assertEquals(2, bad.code(), bad::toString);
        assertTrue(bad.err().contains("auto, layers, generic"), bad::toString);
    }

    /**
     * The direction preflight follows the engine: Hutch++ with 100 samples pushes 34 directions; the
     * generic engine takes them through the whole batch at once (about 11 MB each for 2,000 rows of a
     * 4-16-3 net, ~375 MB in all) while the layer engine chunks them (~30 MB), so a 100 MB budget
     * refuses the first and accepts the second (before, both were refused).
     */
    @Test
    void tracePreflightCountsTheLayerEnginesChunkedDirections() throws Exception {
        Sequential m = Sequential.builder(4).dense(16, Activation.TANH).dense(3, Activation.IDENTITY).build();
        double[] cls = new double[2000];
        for (int i = 0; i < cls.length; i++) {
            cls[i] = i % 3;
        }
        CliFixture f = CliFixture.write(dir, m, Losses.CROSS_ENTROPY, m.initialParameters(5), CliFixture.randn(6, 2000, 4),
                Nd4j.create(cls, new long[] {2000}, DataType.DOUBLE));
        ok(f.args("trace", "--samples", 100, "--max-memory", "100M"));
        CliFixture.Run generic = CliFixture.run(f.args("trace", "--samples", 100, "--max-memory", "100M", "--engine", "generic"));
        assertEquals(1, generic.code(), generic::toString);
        assertTrue(generic.err().contains("--samples") && generic.err().contains("--max-memory"), generic::toString);
    }

    /** The real entry point in its own JVM: background ND4J warm-up, logging set up in code, exit code, output file. */
    @Test
    void mainRunsAsAProcess() throws Exception {
        CliFixture f = CliFixture.ce(dir);
        Path out = f.file("H-process.npy");
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                CurvlabCommand.class.getName()));
        cmd.addAll(Arrays.asList(f.args("hessian", "--out", out)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        String stdout = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        String stderr = new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "curvlab did not finish");
        assertEquals(0, p.exitValue(), () -> stdout + stderr);
        assertTrue(stdout.contains("wrote " + out), stdout);
        assertTrue(stderr.matches("(?s)(\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  hessian: [^\\n]*\\R)+"), () -> "stderr: " + stderr);
        assertClose("hessian from the process", NpyFile.read(out), denseHessian(f), 1e-9);
    }

    @Test
    void hessianMatchesAutodiffByEveryMethod() throws Exception {
        CliFixture f = CliFixture.ce(dir);
        INDArray h = denseHessian(f);
        for (String[] extra : new String[][] {{}, {"--method", "structured"}, {"--method", "blocked", "--block", "4", "--batch-size", "4"},
                {"--method", "rowloop"}, {"--method", "BLOCKED", "--symmetrize", "--threads", "2"}}) {
            Path out = f.file("H" + extra.length + ".npy");
            String[] args = concat(f.args("hessian", "--out", out), extra);
            CliFixture.Run r = ok(args);
            assertClose("hessian " + Arrays.toString(extra), NpyFile.read(out), h, 1e-9);
            assertTrue(r.out().contains("N = " + f.model().parameterCount()), r::toString);
            assertTrue(r.out().contains("max |H - H^T| = "), r::toString);
            assertFalse(Files.exists(f.file(out.getFileName() + ".partial")), "partial file left behind");
        }
    }

    @Test
    void hessianWithCheckpointStreamsAndCleansUp() throws Exception {
        CliFixture f = CliFixture.mse(dir);
        Path out = f.file("Hc.npy");
        Path ckpt = f.file("ckpt");
        ok(f.args("hessian", "--out", out, "--checkpoint", ckpt, "--method", "blocked", "--block", 8));
        assertClose("checkpointed hessian", NpyFile.read(out), denseHessian(f), 1e-9);
        try (var files = Files.list(ckpt)) {
            assertEquals(0, files.count(), "checkpoint files left after completion");
        }
    }

    @Test
    void hessianLayerBlockIsTheDiagonalBlock() throws Exception {
        CliFixture f = CliFixture.mse(dir);
        INDArray h = denseHessian(f);
        long start = f.model().layout().block(2).offset();
        long end = f.model().layout().block(3).end();
        INDArray expected = h.get(NDArrayIndex.interval(start, end), NDArrayIndex.interval(start, end));
        Path a = f.file("L1.npy");
        ok(f.args("hessian", "--layer", 1, "--out", a));
        assertClose("layer block (structured)", NpyFile.read(a), expected, 1e-9);
        Path b = f.file("L1b.npy");
        ok(f.args("hessian", "--layer", 1, "--method", "blocked", "--out", b));
        assertClose("layer block (subset operator)", NpyFile.read(b), expected, 1e-9);
    }

    /** {@code --layer L} through the one dense-matrix path for every matrix command (issue 10): the full matrix's diagonal block. */
    @Test
    void everyDenseMatrixCommandGivesALayersBlock() throws Exception {
        CliFixture f = CliFixture.mse(dir);
        long start = f.model().layerOffsets()[1];
        long end = f.model().layerOffsets()[2];
        for (String command : new String[] {"ggn", "empirical-fisher", "fisher"}) {
            Path whole = f.file(command + ".npy");
            ok(f.args(command, "--out", whole));
            INDArray expected = NpyFile.read(whole).get(NDArrayIndex.interval(start, end), NDArrayIndex.interval(start, end));
            Path block = f.file(command + "-L1.npy");
            CliFixture.Run r = ok(f.args(command, "--layer", 1, "--out", block));
            assertTrue(r.out().contains("layer 1: parameters [" + start + ", " + end + ") of N = 32"), r::toString);
            assertClose(command + " layer block", NpyFile.read(block), expected, 1e-9);
        }
    }

    @Test
    void hvpIsHessianTimesV() throws Exception {
        CliFixture f = CliFixture.mse(dir);
        INDArray h = denseHessian(f);
        long n = f.model().parameterCount();
        INDArray v = CliFixture.randn(5, n);
        NpyFile.write(f.file("v.npy"), v);
        ok(f.args("hvp", "--v", f.file("v.npy"), "--out", f.file("hv.npy")));
        assertClose("H v", NpyFile.read(f.file("hv.npy")), h.mmul(v.reshape(n, 1)).reshape(n), 1e-9);
        INDArray vs = CliFixture.randn(6, n, 3);
        NpyFile.write(f.file("V.npy"), vs);
        ok(f.args("hvp", "--v", f.file("V.npy"), "--out", f.file("HV.npy"), "--batch-size", 2));
        assertClose("H V", NpyFile.read(f.file("HV.npy")), h.mmul(vs), 1e-9);
    }

    @Test
    void ggnAndEmpiricalFisherMatchTheirOperators() throws Exception {
        CliFixture f = CliFixture.ce(dir);
        ok(f.args("ggn", "--out", f.file("G.npy")));
        INDArray g = new GgnOperator(f.model(), f.loss(), f.data(), f.theta(), 0).toDense(8);
        assertClose("ggn", NpyFile.read(f.file("G.npy")), g, 1e-9);
        ok(f.args("empirical-fisher", "--out", f.file("E.npy"), "--batch-size", 5));
        INDArray e = new EmpiricalFisherOperator(f.model(), f.loss(), f.data(), f.theta(), 0).toDense(8);
        assertClose("empirical fisher", NpyFile.read(f.file("E.npy")), e, 1e-9);
    }

    @Test
    void fisherAndStandardErrorsMatchFisherInference() throws Exception {
        CliFixture f = CliFixture.logistic(dir);
        CliFixture.Run r = ok(f.args("fisher", "--out", f.file("F.npy"), "--se", f.file("SE.npy")));
        INDArray fisher = new ObservedFisherOperator(f.model(), f.loss(), f.data(), f.theta(), 0).toDense(4);
        assertClose("observed Fisher", NpyFile.read(f.file("F.npy")), fisher, 1e-9);
        var cov = FisherInference.covariance(fisher, FisherInference.SingularPolicy.ERROR);
        assertClose("standard errors", NpyFile.read(f.file("SE.npy")), cov.standardErrors(), 1e-8);
        assertTrue(r.out().contains("standard errors"), r::toString);
        ok(f.args("fisher", "--out", f.file("F2.npy"), "--method", "blocked"));
        assertClose("observed Fisher (blocked)", NpyFile.read(f.file("F2.npy")), fisher, 1e-9);
    }

    @Test
    void eigsMatchesTheDenseSpectrum() throws Exception {
        CliFixture f = CliFixture.mse(dir);
        double[] all = SymmetricEigen.eigenvalues(denseHessian(f));
        Path out = f.file("eig.npy");
        CliFixture.Run r = ok(f.args("eigs", "--k", 3, "--out", out));
        double[] top = sorted(NpyFile.read(out).toDoubleVector());
        double[] expected = Arrays.copyOfRange(all, all.length - 3, all.length);
        assertArrayEquals(expected, top, 1e-6 * Math.max(1, Math.abs(all[all.length - 1])), r::toString);
        ok(f.args("eigs", "--k", 2, "--which", "smallest", "--out", out));
        assertArrayEquals(Arrays.copyOfRange(all, 0, 2), sorted(NpyFile.read(out).toDoubleVector()),
                1e-6 * Math.max(1, Math.abs(all[all.length - 1])));
    }

    @Test
    void traceExactIsTheTraceOfTheDenseHessian() throws Exception {
        CliFixture f = CliFixture.ce(dir);
        INDArray h = denseHessian(f);
        double expected = 0;
        for (long i = 0; i < h.size(0); i++) {
            expected += h.getDouble(i, i);
        }
        CliFixture.Run r = ok(f.args("trace", "--exact"));
        assertEquals(expected, number(r.out(), "trace = "), 1e-9 * Math.max(1, Math.abs(expected)), r::toString);
        CliFixture.Run est = ok(f.args("trace", "--samples", 30, "--seed", 3, "--quiet"));
        double se = number(est.out(), "+- ");
        assertTrue(Math.abs(number(est.out(), "trace = ") - expected) <= 5 * se + 1e-9, est::toString);
        assertTrue(est.out().contains("hutch++, 30 matrix-vector products"), est::toString);
    }

    @Test
    void jacobianMatchesRowwise() throws Exception {
        CliFixture f = CliFixture.mse(dir);
        Path out = f.file("J.npy");
        ok(f.argsWithoutY("jacobian", "--out", out));
        Tensor theta = Tensor.of(f.theta());
        INDArray expected = Rowwise.jacobian(x -> f.model().forward(theta, x)).apply(Tensor.of(f.data().x())).array();
        assertClose("jacobian", NpyFile.read(out), expected, TOL);
        assertArrayEquals(new long[] {7, 2, 3}, NpyFile.read(out).shape());
    }

    @Test
    void helpAndVersion() {
        CliFixture.Run top = ok("--help");
        for (String c : new String[] {"gradient", "hessian", "hvp", "ggn", "empirical-fisher", "fisher", "eigs", "trace", "jacobian"}) {
            assertTrue(top.out().contains(c), () -> c + " missing from\n" + top.out());
            CliFixture.Run sub = ok(c, "--help");
            assertTrue(sub.out().contains("Usage: curvlab " + c), sub::toString);
            assertTrue(sub.out().contains("--model") && sub.out().contains("--quiet"), sub::toString);
        }
        CliFixture.Run v = ok("--version");
        assertTrue(v.out().startsWith("curvlab "), v::toString);
    }

    @Test
    void quietSuppressesLogLinesButNotResults() throws Exception {
        CliFixture f = CliFixture.mse(dir);
        CliFixture.Run r = ok(f.args("hessian", "--quiet"));
        assertTrue(r.out().contains("Hessian: N = 32"), r::toString);
        assertFalse(r.out().contains("INFO") || r.err().contains("INFO"), r::toString);
    }

    static double[] sorted(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c;
    }

    static double number(String text, String prefix) {
        Matcher m = Pattern.compile(Pattern.quote(prefix) + "([-+0-9.eE]+)").matcher(text);
        assertTrue(m.find(), () -> "no '" + prefix + "' in\n" + text);
        return Double.parseDouble(m.group(1));
    }

    static String[] concat(String[] a, String[] b) {
        String[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
