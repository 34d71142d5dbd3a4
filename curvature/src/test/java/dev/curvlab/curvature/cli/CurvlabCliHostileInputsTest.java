package dev.curvlab.curvature.cli;

import dev.curvlab.nn.io.NpyFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Hostile inputs across the commands (issue 11: corrupt, huge-header and odd-dtype .npy, broken,
 * huge and deep JSON, mismatched shapes, absurd options, impossible outputs): each is refused with
 * its exit code and one stderr line naming the file or option, no stack trace, every input
 * unchanged and no output left ({@link CurvlabCliRobustnessTest#refused}).
 */
class CurvlabCliHostileInputsTest {
    @TempDir
    Path dir;

    /** One hostile run: the files it plants, the command line, the expected exit code and a word of the message. */
    record Case(String name, int code, String mentions, Setup setup) {
        @Override
        public String toString() {
            return name;
        }
    }

    @FunctionalInterface
    interface Setup {
        String[] args(Env e) throws IOException;
    }

    /** The fixture (3-5(tanh)-2 mse, N = 32, 7 samples) and helpers to plant files. */
    record Env(CliFixture f, Path dir) {
        Path out() {
            return dir.resolve("out.npy");
        }

        Path text(String name, String content) throws IOException {
            return Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
        }

        Path bytes(String name, byte[] content) throws IOException {
            return Files.write(dir.resolve(name), content);
        }

        /** An npy file with this header dictionary (padded as NumPy does) and these data bytes. */
        Path npy(String name, String dict, int dataBytes) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            b.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
            StringBuilder h = new StringBuilder(dict);
            while ((10 + h.length() + 1) % 64 != 0) {
                h.append(' ');
            }
            h.append('\n');
            b.write(h.length() & 0xff);
            b.write(h.length() >> 8);
            b.write(h.toString().getBytes(StandardCharsets.ISO_8859_1));
            b.write(new byte[dataBytes]);
            return bytes(name, b.toByteArray());
        }

        Path array(String name, double[] values, long... shape) throws IOException {
            Path p = dir.resolve(name);
            NpyFile.write(p, Nd4j.create(values, shape, DataType.DOUBLE));
            return p;
        }

        /** The command line of {@code command} with {@code option}'s file replaced. */
        String[] with(String command, String option, Path file, Object... extra) {
            String[] a = command.equals("jacobian") ? f.argsWithoutY(command, extra) : f.args(command, extra);
            for (int i = 0; i < a.length - 1; i++) {
                if (a[i].equals(option)) {
                    a[i + 1] = file.toString();
                }
            }
            return a;
        }

        String[] hvp(Path v, Object... extra) {
            List<Object> a = new ArrayList<>(List.of("--v", v));
            a.addAll(List.of(extra));
            return f.args("hvp", a.toArray());
        }
    }

    static double[] filled(int n, double v) {
        double[] a = new double[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    static Stream<Case> cases() {
        String params = "--params";
        return Stream.of(
                // corrupt, huge-header and odd-dtype .npy
                new Case("empty params file", 1, "p.npy", e -> e.with("gradient", params, e.bytes("p.npy", new byte[0]))),
                new Case("bad magic", 1, "p.npy", e -> e.with("hessian", params, e.text("p.npy", "PK\u0003\u0004 not numpy at all"))),
                new Case("header cut after the version", 1, "p.npy", e -> e.with("gradient", params, e.bytes("p.npy",
                        new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}))),
                new Case("header length past the end", 1, "p.npy", e -> e.with("gradient", params, e.bytes("p.npy",
                        new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) 0xff, (byte) 0xff, '{'}))),
                new Case("4 GB header length (v2)", 1, "p.npy", e -> e.with("gradient", params, e.bytes("p.npy",
                        new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0x7f, '{'}))),
                new Case("header is a list", 1, "p.npy", e -> e.with("gradient", params, e.npy("p.npy", "[1, 2, 3]", 0))),
                new Case("complex dtype", 1, "p.npy", e -> e.with("gradient", params,
                        e.npy("p.npy", "{'descr': '<c16', 'fortran_order': False, 'shape': (32,), }", 512))),
                new Case("object dtype", 1, "X.bad.npy", e -> e.with("gradient", "--x",
                        e.npy("X.bad.npy", "{'descr': '|O', 'fortran_order': False, 'shape': (7, 3), }", 168))),
                new Case("unicode dtype", 1, "Y.bad.npy", e -> e.with("gradient", "--y",
                        e.npy("Y.bad.npy", "{'descr': '<U4', 'fortran_order': False, 'shape': (7, 2), }", 224))),
                new Case("negative shape", 1, "p.npy", e -> e.with("gradient", params,
                        e.npy("p.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (-32,), }", 0))),
                new Case("a trillion elements", 1, "p.npy", e -> e.with("gradient", params,
                        e.npy("p.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }", 64))),
                new Case("shape overflowing a long", 1, "p.npy", e -> e.with("gradient", params,
                        e.npy("p.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999, 9999), }", 64))),
                new Case("truncated data", 1, "p.npy", e -> e.with("gradient", params,
                        e.npy("p.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (32,), }", 80))),
                new Case("fortran_order not a bool", 1, "p.npy", e -> e.with("gradient", params,
                        e.npy("p.npy", "{'descr': '<f8', 'fortran_order': 'yes', 'shape': (32,), }", 256))),
                new Case("header missing shape", 1, "p.npy", e -> e.with("gradient", params,
                        e.npy("p.npy", "{'descr': '<f8', 'fortran_order': False, }", 256))),
                // mismatched shapes and values
                new Case("params a matrix", 1, "p.npy", e -> e.with("hessian", params, e.array("p.npy", new double[32], 4, 8))),
                new Case("params of the wrong length", 1, "p.npy", e -> e.with("eigs", params, e.array("p.npy", new double[31], 31), "--k", "2")),
                new Case("params with Inf", 1, "p.npy", e -> e.with("gradient", params, e.array("p.npy", filled(32, Double.POSITIVE_INFINITY), 32))),
                new Case("X a vector", 1, "X2.npy", e -> e.with("gradient", "--x", e.array("X2.npy", new double[21], 21))),
                new Case("X of the wrong width", 1, "X2.npy", e -> e.with("trace", "--x", e.array("X2.npy", new double[28], 7, 4))),
                new Case("X with NaN", 1, "X2.npy", e -> e.with("ggn", "--x", e.array("X2.npy", filled(21, Double.NaN), 7, 3))),
                new Case("X with no rows", 1, "X2.npy", e -> e.with("jacobian", "--x", e.array("X2.npy", new double[0], 0, 3))),
                new Case("Y with other rows", 1, "Y2.npy", e -> e.with("gradient", "--y", e.array("Y2.npy", new double[12], 6, 2))),
                new Case("Y of rank 3", 1, "Y2.npy", e -> e.with("hvp", "--y", e.array("Y2.npy", new double[14], 7, 2, 1), "--v",
                        e.dir().resolve("v.npy"))),
                new Case("ce class out of range", 1, "Y2.npy", e -> e.with("gradient", "--y", e.array("Y2.npy", filled(7, 5), 7), "--loss", "ce")),
                new Case("v of the wrong length", 1, "v2.npy", e -> e.hvp(e.array("v2.npy", new double[31], 31))),
                new Case("v with NaN", 1, "v2.npy", e -> e.hvp(e.array("v2.npy", filled(64, Double.NaN), 32, 2))),
                new Case("X is a directory", 1, "X.d", e -> e.with("gradient", "--x", Files.createDirectory(e.dir().resolve("X.d")))),
                new Case("params missing", 1, "--params", e -> e.with("gradient", params, e.dir().resolve("absent.npy"))),
                // broken, huge and deep JSON
                new Case("empty model", 1, "m.json", e -> e.with("gradient", "--model", e.text("m.json", ""))),
                new Case("trailing comma", 1, "m.json", e -> e.with("gradient", "--model", e.text("m.json",
                        "{\"input\": 3, \"layers\": [{\"type\": \"dense\", \"units\": 2, \"activation\": \"tanh\"},], \"loss\": \"mse\"}"))),
                new Case("unknown key", 1, "m.json", e -> e.with("hessian", "--model", e.text("m.json",
                        "{\"input\": 3, \"layers\": [{\"type\": \"dense\", \"units\": 2, \"activation\": \"tanh\"}], \"loss\": \"mse\", \"lr\": 1}"))),
                new Case("units a string", 1, "m.json", e -> e.with("gradient", "--model", e.text("m.json",
                        "{\"input\": 3, \"layers\": [{\"type\": \"dense\", \"units\": \"5\", \"activation\": \"tanh\"}], \"loss\": \"mse\"}"))),
                new Case("unknown activation", 1, "tanhh", e -> e.with("gradient", "--model", e.text("m.json",
                        "{\"input\": 3, \"layers\": [{\"type\": \"dense\", \"units\": 2, \"activation\": \"tanhh\"}], \"loss\": \"mse\"}"))),
                new Case("100,000 nested arrays", 1, "m.json", e -> e.with("gradient", "--model", e.text("m.json",
                        "{\"input\": " + "[".repeat(100_000) + "]".repeat(100_000) + "}"))),
                new Case("units 1e400", 1, "m.json", e -> e.with("gradient", "--model", e.text("m.json",
                        "{\"input\": 3, \"layers\": [{\"type\": \"dense\", \"units\": 1e400, \"activation\": \"tanh\"}], \"loss\": \"mse\"}"))),
                new Case("units beyond int", 1, "m.json", e -> e.with("gradient", "--model", e.text("m.json",
                        "{\"input\": 3, \"layers\": [{\"type\": \"dense\", \"units\": 2147483648, \"activation\": \"tanh\"}], \"loss\": \"mse\"}"))),
                new Case("negative units", 1, "m.json", e -> e.with("gradient", "--model", e.text("m.json",
                        "{\"input\": 3, \"layers\": [{\"type\": \"dense\", \"units\": -3, \"activation\": \"tanh\"}], \"loss\": \"mse\"}"))),
                new Case("no layers", 1, "m.json", e -> e.with("gradient", "--model", e.text("m.json", "{\"input\": 3, \"layers\": [], \"loss\": \"mse\"}"))),
                new Case("a 17 MB model file", 1, "at most 16 MB", e -> e.with("gradient", "--model", e.text("m.json",
                        "{\"input\": 3, \"layers\": [], \"loss\": \"mse\"}" + " ".repeat(17 << 20)))),
                new Case("binary garbage", 1, "m.json", e -> e.with("gradient", "--model", e.bytes("m.json",
                        new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, (byte) 0xc3, 0x28}))),
                new Case("a 4 MB string value", 1, "m.json", e -> e.with("gradient", "--model", e.text("m.json",
                        "{\"input\": 3, \"layers\": [], \"loss\": \"" + "x".repeat(4 << 20) + "\"}"))),
                // absurd options
                new Case("--k 0", 2, "--k", e -> e.f().args("eigs", "--k", "0")),
                new Case("--k overflowing int", 2, "--k", e -> e.f().args("eigs", "--k", "99999999999")),
                new Case("--k above N", 2, "--k 33", e -> e.f().args("eigs", "--k", "33")),
                new Case("--max-iter below k", 2, "--max-iter", e -> e.f().args("eigs", "--k", "3", "--max-iter", "1")),
                new Case("--tol negative", 2, "--tol", e -> e.f().args("eigs", "--k", "2", "--tol", "-1")),
                new Case("--tol NaN", 2, "--tol", e -> e.f().args("eigs", "--k", "2", "--tol", "NaN")),
                new Case("--samples 0", 2, "--samples", e -> e.f().args("trace", "--samples", "0")),
                new Case("--batch-size -1", 2, "--batch-size", e -> e.f().args("gradient", "--batch-size", "-1")),
                new Case("--layer 99", 2, "--layer 99", e -> e.f().args("hessian", "--layer", "99")),
                new Case("--method foo", 2, "--method", e -> e.f().args("hessian", "--method", "foo")),
                new Case("--which foo", 2, "--which", e -> e.f().args("eigs", "--k", "2", "--which", "foo")),
                new Case("--max-memory abc", 2, "--max-memory", e -> e.f().args("jacobian", "--max-memory", "abc")),
                new Case("--max-memory below 1K", 2, "1K to 1P", e -> e.f().args("hvp", "--v", e.dir().resolve("v.npy"), "--max-memory", "0.5K")),
                new Case("--threads -1", 2, "--threads", e -> e.f().args("gradient", "--threads", "-1")),
                new Case("--loss foo", 1, "--loss foo", e -> e.f().args("gradient", "--loss", "foo")),
                new Case("a 1 MB option value", 2, "--k", e -> e.f().args("eigs", "--k", "9".repeat(1 << 20))),
                // impossible outputs
                new Case("--out a directory", 1, "it is a directory", e -> e.f().args("gradient", "--out", Files.createDirectory(e.dir().resolve("o.d")))),
                new Case("--out in a missing directory", 1, "does not exist", e -> e.f().args("hessian", "--out", e.dir().resolve("no/h.npy"))),
                new Case("--out equals --se", 2, "same file", e -> e.f().args("fisher", "--out", e.out(), "--se", e.out())),
                new Case("--checkpoint a file", 1, "--checkpoint", e -> e.f().args("hessian", "--checkpoint", e.text("ck.txt", "x"))),
                new Case("--out a symlink to an input", 1, "refusing to overwrite", e -> e.f().args("ggn", "--out",
                        Files.createSymbolicLink(e.dir().resolve("link.npy"), e.f().yFile()))),
                new Case("--out an input through ..", 1, "refusing to overwrite", e -> e.f().args("hvp", "--v", e.dir().resolve("v.npy"),
                        "--out", e.dir().resolve("sub/../v.npy"))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void isRefusedCleanly(Case c) throws IOException {
        CliFixture f = CliFixture.mse(dir);
        NpyFile.write(dir.resolve("v.npy"), CliFixture.randn(5, 32));
        Files.createDirectories(dir.resolve("sub"));
        String[] args = c.setup().args(new Env(f, dir));
        CurvlabCliRobustnessTest.refused(dir, c.code(), c.mentions(), args);
    }
}
