package dev.curvlab.spark.cli;

import dev.curvlab.nn.io.NpyFile;
import dev.curvlab.spark.hessian.HessianBands;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code curvlab-spark bands}: reads a directory of bands (no Spark job): a row range, or the whole matrix assembled into one file. */
@Command(name = "bands", sortOptions = false, usageHelpAutoWidth = true,
        description = "Reads the bands a dense-matrix command wrote: --rows A:B --out FILE writes rows [A, B), --assemble FILE the whole"
                + " matrix as one .npy (if the disk has room).")
final class BandsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--dir", required = true, order = 1, paramLabel = "DIR", description = "the --out-dir of hessian, ggn, empirical-fisher or fisher")
    String dir;

    @Option(names = "--rows", order = 2, paramLabel = "A:B", description = "rows [A, B) to write to --out")
    String rows;

    @Option(names = "--out", order = 3, paramLabel = "FILE", description = "with --rows: the rows [B - A, N] (float64 .npy)")
    Path out;

    @Option(names = "--assemble", order = 4, paramLabel = "FILE", description = "write the whole matrix [N, N] (float64 .npy)")
    Path assemble;

    @Option(names = "--debug", order = 92, description = "print the stack trace with an error")
    boolean debug;

    @Option(names = {"-h", "--help"}, order = 93, usageHelp = true, description = "show this help and exit")
    boolean help;

    @Override
    public Integer call() throws Exception {
        if ((rows == null) == (assemble == null) || (rows != null) != (out != null)) {
            throw new ParameterException(spec.commandLine(), "give either --rows A:B --out FILE or --assemble FILE");
        }
        long a;
        long b;
        if (rows != null) {
            String[] ab = rows.split(":");
            try {
                a = Long.parseLong(ab[0].trim());
                b = Long.parseLong(ab[1].trim());
            } catch (RuntimeException e) {
                throw new ParameterException(spec.commandLine(), "--rows must be A:B (row numbers, B exclusive), got '" + rows + "'");
            }
            SparkSubcommand.checkWritable(out, "--out");
        } else {
            a = 0;
            b = 0;
            SparkSubcommand.checkWritable(assemble, "--assemble");
        }
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        HessianBands bands = HessianBands.open(dir);
        if (rows != null) {
            INDArray r = bands.rows(a, b);
            NpyFile.write(out, r);
            spec.commandLine().getOut().println("wrote " + out + " [" + r.size(0) + ", " + r.size(1) + "] (rows " + a + ".." + (b - 1) + " of "
                    + bands.manifest().matrix() + ", N = " + bands.size() + ")");
        } else {
            bands.assemble(assemble);
            spec.commandLine().getOut().println("wrote " + assemble + " [" + bands.size() + ", " + bands.size() + "] (" + bands.manifest().matrix() + ")");
        }
        spec.commandLine().getOut().flush();
        return 0;
    }
}
