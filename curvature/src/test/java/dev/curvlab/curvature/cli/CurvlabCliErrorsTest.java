package dev.curvlab.curvature.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.nn.io.NpyFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Bad input: a non-zero exit code (2 for usage, 1 for files and data), exactly one stderr line
 * {@code curvlab: error: ...} naming the file or option, no stack trace, and no output file.
 */
class CurvlabCliErrorsTest {
    @TempDir
    Path dir;

    CliFixture f;
    Path out;

    @BeforeEach
    void setUp() throws IOException {
        f = CliFixture.mse(dir);
        out = dir.resolve("result.npy");
    }

    /** Runs, then checks the exit code, the single error line and that no output file appeared. */
    CliFixture.Run fails(int code, String mentions, String... args) throws IOException {
        CliFixture.Run r = CliFixture.run(args);
        assertEquals(code, r.code(), r::toString);
        List<String> lines = r.errLines();
        assertEquals(1, lines.size(), () -> "expected one stderr line\n" + r);
        assertTrue(lines.get(0).startsWith("curvlab: error: "), r::toString);
        assertTrue(lines.get(0).contains(mentions), () -> "'" + mentions + "' not in: " + lines.get(0));
        assertFalse(r.err().contains("\tat "), "stack trace without --debug");
        assertFalse(Files.exists(out), "output file created: " + out);
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith("result.npy")), "partial output left in " + dir);
        }
        return r;
    }

    Path text(String name, String content) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, content, StandardCharsets.UTF_8);
        return p;
    }

    Path npy(String name, INDArray a) throws IOException {
        Path p = dir.resolve(name);
        NpyFile.write(p, a);
        return p;
    }

    String[] with(String command, String option, Path replacement, Object... extra) {
        String[] a = f.args(command, extra);
        for (int i = 0; i < a.length - 1; i++) {
            if (a[i].equals(option)) {
                a[i + 1] = replacement.toString();
            }
        }
        return a;
    }

    @Test
    void missingFilesAreNamed() throws IOException {
        Path nowhere = dir.resolve("nowhere");
        fails(1, "nowhere.json", with("hessian", "--model", nowhere.resolveSibling("nowhere.json"), "--out", out));
        fails(1, "nowhere.npy", with("hessian", "--params", nowhere.resolveSibling("nowhere.npy"), "--out", out));
        fails(1, "--x", with("gradient", "--x", nowhere.resolveSibling("X0.npy"), "--out", out));
        fails(1, "Y0.npy", with("ggn", "--y", nowhere.resolveSibling("Y0.npy"), "--out", out));
    }

    @Test
    void corruptAndBrokenFiles() throws IOException {
        fails(1, "junk.npy", with("hessian", "--params", text("junk.npy", "this is not an npy file"), "--out", out));
        Path truncated = dir.resolve("trunc.npy");
        byte[] good = Files.readAllBytes(f.xFile());
        Files.write(truncated, java.util.Arrays.copyOf(good, good.length - 16));
        fails(1, "trunc.npy", with("gradient", "--x", truncated, "--out", out));
        fails(1, "broken.json", with("hessian", "--model", text("broken.json", "{\"input\": 3, \"layers\": ["), "--out", out));
        Path act = text("act.json", "{\"input\": 3, \"layers\": [{\"type\": \"dense\", \"units\": 5, \"activation\": \"tahn\"},"
                + " {\"type\": \"dense\", \"units\": 2, \"activation\": \"identity\"}], \"loss\": \"mse\"}");
        CliFixture.Run r = fails(1, "act.json", with("hessian", "--model", act, "--out", out));
        assertTrue(r.err().contains("tahn"), r::toString);
    }

    @Test
    void parametersThatDoNotFitTheArchitecture() throws IOException {
        fails(1, "short.npy", with("hessian", "--params", npy("short.npy", Nd4j.zeros(DataType.DOUBLE, 31)), "--out", out));
        INDArray nan = f.theta().dup();
        nan.putScalar(4, Double.NaN);
        fails(1, "nanparams.npy", with("gradient", "--params", npy("nanparams.npy", nan), "--out", out));
    }

    @Test
    void badInputsAndTargets() throws IOException {
        fails(1, "wide.npy", with("hessian", "--x", npy("wide.npy", CliFixture.randn(1, 7, 4)), "--out", out));
        INDArray nan = f.data().x().dup();
        nan.putScalar(2, 1, Double.NaN);
        CliFixture.Run r = fails(1, "nanx.npy", with("hessian", "--x", npy("nanx.npy", nan), "--out", out));
        assertTrue(r.err().contains("row 2"), r::toString);
        INDArray inf = f.data().x().dup();
        inf.putScalar(0, 0, Double.POSITIVE_INFINITY);
        Path infx = npy("infx.npy", inf);
        fails(1, "infx.npy", "jacobian", "--model", f.modelFile().toString(), "--params", f.paramsFile().toString(), "--x", infx.toString(),
                "--out", out.toString());
        fails(1, "y3.npy", with("hessian", "--y", npy("y3.npy", CliFixture.randn(2, 7, 3)), "--out", out));
        fails(1, "y6.npy", with("gradient", "--y", npy("y6.npy", CliFixture.randn(2, 6, 2)), "--out", out));
        INDArray nanY = f.data().y().dup();
        nanY.putScalar(1, 1, Double.NaN);
        fails(1, "nany.npy", with("hvp", "--y", npy("nany.npy", nanY), "--v", f.paramsFile(), "--out", out));
        CliFixture ce = CliFixture.ce(Files.createDirectories(dir.resolve("ce")));
        INDArray cls = ce.data().y().dup();
        cls.putScalar(0, 1.5);
        String[] a = ce.args("hessian", "--out", out);
        a[8] = npy("cls.npy", cls).toString();
        fails(1, "cls.npy", a);
        fails(1, "v.npy", f.args("hvp", "--v", npy("v.npy", Nd4j.zeros(DataType.DOUBLE, 5)), "--out", out));
    }

    @Test
    void optionValuesOutOfRange() throws IOException {
        fails(2, "--k", f.args("eigs", "--k", 33, "--out", out));
        fails(2, "--k", f.args("eigs", "--k", 0, "--out", out));
        fails(2, "--k", f.args("eigs", "--k", "three", "--out", out));
        fails(2, "--which", f.args("eigs", "--k", 2, "--which", "middle", "--out", out));
        fails(2, "--layer", f.args("hessian", "--layer", 2, "--out", out));
        fails(2, "--method", f.args("hessian", "--method", "magic", "--out", out));
        fails(2, "--method", f.args("empirical-fisher", "--method", "structured", "--out", out));
        fails(2, "--max-memory", f.args("hessian", "--max-memory", "lots", "--out", out));
        fails(2, "--threads", f.args("hessian", "--threads", -1, "--out", out));
        fails(2, "--samples", f.args("trace", "--samples", 0));
        fails(2, "--samples", f.args("trace", "--samples", 2));
        fails(2, "--max-iter", f.args("eigs", "--k", 5, "--max-iter", 3));
        fails(2, "--pinv", f.args("fisher", "--pinv", "--out", out));
        fails(2, "--batch-size", f.args("hessian", "--batch-size", -3, "--out", out));
        fails(1, "--out", f.args("hessian", "--out", dir.resolve("no/such/dir/H.npy")));
        assertFalse(Files.exists(dir.resolve("no")));
    }

    @Test
    void unknownCommandsAndOptions() throws IOException {
        fails(2, "hesian", "hesian", "--out", out.toString());
        fails(2, "--bogus", f.args("hessian", "--bogus", "--out", out));
        fails(2, "--params", "hessian", "--model", f.modelFile().toString(), "--x", f.xFile().toString(), "--y", f.yFile().toString(),
                "--out", out.toString());
        fails(2, "missing command");
    }

    @Test
    void aHessianOverTheMemoryBudgetIsRefusedBeforeWork() throws IOException {
        CliFixture.Run r = fails(1, "--max-memory", f.args("hessian", "--max-memory", "4K", "--out", out));
        assertTrue(r.err().contains("N = 32"), r::toString);
        fails(1, "--max-memory", f.args("ggn", "--max-memory", "2K", "--out", out, "--method", "blocked"));
    }

    @Test
    void aSingularFisherNeedsPinvAndWritesNothing() throws IOException {
        Path se = dir.resolve("result.npy-se.npy");
        CliFixture.Run r = fails(1, "--pinv", f.args("fisher", "--out", out, "--se", se));
        assertFalse(Files.exists(se));
        assertTrue(r.err().contains("eigenvalue"), r::toString);
        CliFixture.Run ok = CliFixture.run(f.args("fisher", "--out", out, "--se", se, "--pinv", "--quiet"));
        assertEquals(0, ok.code(), ok::toString);
        assertTrue(Files.exists(out) && Files.exists(se), ok::toString);
        assertTrue(ok.out().contains("dropped by the pseudo-inverse"), ok::toString);
    }

    @Test
    void debugPrintsTheStackTrace() throws IOException {
        CliFixture.Run r = CliFixture.run(with("hessian", "--params", npy("short.npy", Nd4j.zeros(DataType.DOUBLE, 31)), "--debug"));
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("curvlab: error: "), r::toString);
        assertTrue(r.err().contains("\tat "), r::toString);
    }
}
