package dev.curvlab.curvature.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.curvlab.curvature.hessian.MemoryBudget;
import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.kfac.Kfac;
import dev.curvlab.curvature.kfac.KfacFactors;
import dev.curvlab.curvature.kfac.KfacVariant;
import dev.curvlab.curvature.laplace.CurvatureType;
import dev.curvlab.curvature.laplace.GlmPredictive;
import dev.curvlab.curvature.laplace.Laplace;
import dev.curvlab.curvature.laplace.Structure;
import dev.curvlab.curvature.laplace.Subset;
import dev.curvlab.curvature.operator.GgnOperator;
import dev.curvlab.curvature.progress.ProgressListener;
import dev.curvlab.nn.io.NpyFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** {@code kfac}, {@code diag}, {@code laplace} and {@code predict} against the library calls they wrap, and their input errors. */
class LaplaceCliTest {
    private static final double TOL = 1e-10;

    @TempDir
    Path dir;

    @Test
    void kfacWritesTheFactorsAndTheDenseMatrix() throws Exception {
        CliFixture f = CliFixture.ce(dir);
        Path factors = f.file("factors");
        CurvlabCliTest.ok(f.args("kfac", "--ekfac", "--factors", factors, "--out", f.file("kfac.npy"), "--quiet"));
        KfacFactors want = Kfac.compute(f.model(), f.loss(), f.data(), f.theta(), new Kfac.Options(KfacVariant.EXACT, 1, 0, true));
        for (int l = 0; l < 2; l++) {
            CurvlabCliTest.assertClose("A_" + l, NpyFile.read(factors.resolve("A_" + l + ".npy")), want.a().get(l), TOL);
            CurvlabCliTest.assertClose("G_" + l, NpyFile.read(factors.resolve("G_" + l + ".npy")), want.g().get(l), TOL);
            assertTrue(Files.exists(factors.resolve("ekfac_" + l + ".npy")));
        }
        CurvlabCliTest.assertClose("dense", NpyFile.read(f.file("kfac.npy")), want.dense(), TOL);
        // the MC variant is seeded: the same seed gives the same factors
        CurvlabCliTest.ok(f.args("kfac", "--variant", "mc", "--samples", "3", "--seed", "5", "--factors", f.file("mc1"), "--quiet"));
        CurvlabCliTest.ok(f.args("kfac", "--variant", "mc", "--samples", "3", "--seed", "5", "--factors", f.file("mc1"), "--quiet"));
        KfacFactors mc = Kfac.compute(f.model(), f.loss(), f.data(), f.theta(), new Kfac.Options(KfacVariant.MC, 3, 5, false));
        CurvlabCliTest.assertClose("mc G_0", NpyFile.read(f.file("mc1").resolve("G_0.npy")), mc.g().get(0), TOL);
    }

    @Test
    void diagEqualsTheDiagonalOfTheDenseGgn() throws Exception {
        CliFixture f = CliFixture.mse(dir);
        CurvlabCliTest.ok(f.args("diag", "--of", "ggn", "--out", f.file("d.npy"), "--quiet"));
        INDArray ggn = FullHessian.compute(new GgnOperator(f.model(), f.loss(), f.data(), f.theta(), 0), FullHessian.Options.defaults()).matrix();
        CurvlabCliTest.assertClose("diag", NpyFile.read(f.file("d.npy")), Nd4j.diag(ggn).reshape(ggn.size(0)), TOL);
    }

    @Test
    void laplaceReportAndPredictMatchTheLibrary() throws Exception {
        CliFixture f = CliFixture.mse(dir);
        Path post = f.file("post");
        CurvlabCliTest.ok(f.args("laplace", "--structure", "full", "--subset", "all", "--prior-precision", "2", "--sigma", "0.5",
                "--report", f.file("laplace.json"), "--posterior", post, "--quiet"));
        Laplace want = Laplace.fit(f.model(), f.loss(), f.data(), f.theta(),
                new Laplace.Options(Structure.FULL, Subset.ALL, CurvatureType.GGN, new double[] {2}, 0.5, MemoryBudget.defaultBudget()),
                ProgressListener.NONE);
        JsonNode json = new ObjectMapper().readTree(f.file("laplace.json").toFile());
        assertEquals(want.logMarginalLikelihood(), json.get("log_marginal_likelihood").asDouble(), 1e-10 * Math.abs(want.logMarginalLikelihood()));
        assertEquals(want.logLikelihood(), json.get("log_likelihood").asDouble(), 1e-10);
        assertEquals(2.0, json.get("prior_precision").asDouble());
        assertEquals(0.5, json.get("sigma").asDouble());
        assertEquals(f.model().parameterCount(), json.get("n_params").asLong());
        assertEquals("full", json.get("structure").asText());
        assertEquals("all", json.get("subset").asText());

        CurvlabCliTest.ok("predict", "--posterior", post.toString(), "--x", f.xFile().toString(), "--out", f.file("p.npy").toString(), "--var",
                f.file("v.npy").toString(), "--quiet");
        GlmPredictive.Prediction pr = GlmPredictive.predict(want, f.data().x(), 0, 0, ProgressListener.NONE);
        CurvlabCliTest.assertClose("mean", NpyFile.read(f.file("p.npy")), pr.mean(), TOL);
        CurvlabCliTest.assertClose("variance", NpyFile.read(f.file("v.npy")), pr.variance(), TOL);

        // optimize: the evidence is at least that of the starting point
        CurvlabCliTest.ok(f.args("laplace", "--structure", "kron", "--optimize", "--report", f.file("opt.json"), "--quiet"));
        JsonNode opt = new ObjectMapper().readTree(f.file("opt.json").toFile());
        Laplace start = Laplace.fit(f.model(), f.loss(), f.data(), f.theta(), Laplace.Options.of(Structure.KRON, Subset.ALL, 1.0),
                ProgressListener.NONE);
        assertTrue(opt.get("log_marginal_likelihood").asDouble() >= start.logMarginalLikelihood());
        assertTrue(opt.get("optimized").asBoolean());
    }

    @Test
    void classificationPosteriorPredictsProbabilities() throws Exception {
        CliFixture f = CliFixture.ce(dir);
        Path post = f.file("post");
        CurvlabCliTest.ok(f.args("laplace", "--structure", "kron", "--subset", "last-layer", "--prior-precision", "0.5", "--posterior", post, "--quiet"));
        CurvlabCliTest.ok("predict", "--posterior", post.toString(), "--x", f.xFile().toString(), "--out", f.file("p.npy").toString(), "--quiet");
        INDArray p = NpyFile.read(f.file("p.npy"));
        assertEquals(9, p.size(0));
        assertEquals(3, p.size(1));
        CurvlabCliTest.assertClose("rows sum to 1", p.sum(1), Nd4j.ones(9), 1e-12);
        CurvlabCliTest.ok("predict", "--posterior", post.toString(), "--x", f.xFile().toString(), "--out", f.file("mc.npy").toString(),
                "--mc", "2000", "--seed", "3", "--quiet");
        assertTrue(NpyFile.read(f.file("mc.npy")).sub(p).amaxNumber().doubleValue() < 0.05);
    }

    @Test
    void badInputFailsWithOneLineAndNoOutput() throws Exception {
        CliFixture f = CliFixture.ce(dir);
        CliFixture.Run r = CliFixture.run(f.args("laplace", "--structure", "kron", "--curvature", "hessian", "--report", f.file("r.json")));
        assertEquals(2, r.code(), r::toString);
        assertFalse(Files.exists(f.file("r.json")));

        Files.createDirectories(f.file("busy"));
        Files.writeString(f.file("busy").resolve("notes.txt"), "mine");
        r = CliFixture.run(f.args("laplace", "--posterior", f.file("busy")));
        assertEquals(1, r.code(), r::toString);
        assertEquals(1, r.errLines().size(), r::toString);
        assertTrue(r.err().contains("not empty"), r::toString);

        r = CliFixture.run(f.args("laplace", "--sigma", "0.3", "--report", f.file("r.json")));
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.err().contains("--sigma"), r::toString);
        assertFalse(Files.exists(f.file("r.json")));

        CurvlabCliTest.ok(f.args("laplace", "--posterior", f.file("post"), "--quiet"));
        NpyFile.write(f.file("wide.npy"), Nd4j.zeros(4, 5));
        r = CliFixture.run("predict", "--posterior", f.file("post").toString(), "--x", f.file("wide.npy").toString(), "--out", f.file("p.npy").toString());
        assertEquals(1, r.code(), r::toString);
        assertEquals(1, r.errLines().size(), r::toString);
        assertTrue(r.err().contains("wide.npy"), r::toString);
        assertFalse(Files.exists(f.file("p.npy")));

        r = CliFixture.run("predict", "--posterior", f.dir().toString(), "--x", f.xFile().toString(), "--out", f.file("p.npy").toString());
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.err().contains("posterior.json"), r::toString);

        r = CliFixture.run(f.args("kfac", "--samples", "3", "--factors", f.file("k")));
        assertEquals(2, r.code(), r::toString);
        assertFalse(Files.exists(f.file("k")));

        r = CliFixture.run(f.args("diag", "--of", "fisher", "--out", f.file("d.npy")));
        assertEquals(2, r.code(), r::toString);
    }
}
