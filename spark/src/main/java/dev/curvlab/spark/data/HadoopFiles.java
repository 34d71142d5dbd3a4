package dev.curvlab.spark.data;

import dev.curvlab.nn.io.NpyFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Files through Hadoop's {@link FileSystem} API (local disk, HDFS, S3 alike): {@code .npy} arrays
 * read and written by way of a local temporary file (curvlab's own .npy reader and writer), glob
 * patterns, and write-then-rename, so a file appears under its final name only when complete.
 * The Hadoop configuration is the default one of the JVM it runs in (core-site.xml etc. on the
 * class path or in HADOOP_CONF_DIR), on the driver and the executors alike.
 */
public final class HadoopFiles {
    private HadoopFiles() {
    }

    public static FileSystem fileSystem(org.apache.hadoop.fs.Path p) throws IOException {
        return p.getFileSystem(new Configuration());
    }

    /** The files a path or glob pattern names, sorted by path; empty when nothing matches. */
    public static List<String> glob(String pattern) throws IOException {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(pattern);
        FileStatus[] found = fileSystem(p).globStatus(p);
        List<String> out = new ArrayList<>();
        if (found != null) {
            for (FileStatus s : found) {
                if (s.isFile()) {
                    out.add(s.getPath().toString());
                }
            }
        }
        out.sort(null);
        return out;
    }

    public static boolean exists(String path) throws IOException {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
        return fileSystem(p).exists(p);
    }

    /** A float64 array from a {@code .npy} file anywhere Hadoop reaches. */
    public static INDArray readNpy(String path) throws IOException {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
        FileSystem fs = fileSystem(p);
        if ("file".equals(fs.getScheme())) {
            return NpyFile.read(Path.of(p.toUri().getPath()));
        }
        Path tmp = Files.createTempFile("curvlab-", ".npy");
        try {
            try (InputStream in = fs.open(p)) {
                Files.copy(in, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            return NpyFile.read(tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Writes an array as {@code .npy} to {@code path}: to a unique temporary name beside it, then
     * renamed. Returns false (and leaves the existing file alone) when {@code path} already exists,
     * e.g. written meanwhile by another attempt of the same task.
     */
    public static boolean writeNpyIfAbsent(String path, INDArray array, String attempt) throws IOException {
        org.apache.hadoop.fs.Path target = new org.apache.hadoop.fs.Path(path);
        FileSystem fs = fileSystem(target);
        if (fs.exists(target)) {
            return false;
        }
        if ("file".equals(fs.getScheme())) {
            // local disk: curvlab's writer, atomic by itself (a hidden temporary file beside the target, renamed)
            NpyFile.write(Path.of(target.toUri().getPath()), array);
            return true;
        }
        Path local = Files.createTempFile("curvlab-", ".npy");
        try {
            NpyFile.write(local, array);
            return publishIfAbsent(local, path, attempt);
        } finally {
            Files.deleteIfExists(local);
        }
    }

    /** Copies a local file to {@code path} by way of a temporary name and a rename; false if {@code path} exists. */
    public static boolean publishIfAbsent(Path local, String path, String attempt) throws IOException {
        org.apache.hadoop.fs.Path target = new org.apache.hadoop.fs.Path(path);
        FileSystem fs = fileSystem(target);
        if (fs.exists(target)) {
            return false;
        }
        org.apache.hadoop.fs.Path tmp = new org.apache.hadoop.fs.Path(target.getParent(), "." + target.getName() + "." + attempt + ".tmp");
        try (OutputStream out = fs.create(tmp, true)) {
            Files.copy(local, out);
        }
        boolean renamed = false;
        try {
            renamed = fs.rename(tmp, target);
        } finally {
            if (!renamed) {
                fs.delete(tmp, false);
            }
        }
        return renamed;
    }

    /** Writes text to {@code path} by way of a temporary name, replacing what was there. */
    public static void writeText(String path, String text, String attempt) throws IOException {
        org.apache.hadoop.fs.Path target = new org.apache.hadoop.fs.Path(path);
        FileSystem fs = fileSystem(target);
        org.apache.hadoop.fs.Path tmp = new org.apache.hadoop.fs.Path(target.getParent(), "." + target.getName() + "." + attempt + ".tmp");
        try (OutputStream out = fs.create(tmp, true)) {
            out.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        fs.delete(target, false);
        if (!fs.rename(tmp, target)) {
            fs.delete(tmp, false);
            throw new IOException(path + ": cannot rename " + tmp + " into place");
        }
    }

    /** The text of a file, or null if it does not exist. */
    public static String readText(String path) throws IOException {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
        FileSystem fs = fileSystem(p);
        if (!fs.exists(p)) {
            return null;
        }
        try (InputStream in = fs.open(p)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** Names (not paths) of the files directly in {@code dir}, sorted; empty if it does not exist. */
    public static List<String> list(String dir) throws IOException {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(dir);
        FileSystem fs = fileSystem(p);
        if (!fs.exists(p)) {
            return List.of();
        }
        return Arrays.stream(fs.listStatus(p)).map(s -> s.getPath().getName()).sorted().toList();
    }

    public static void mkdirs(String dir) throws IOException {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(dir);
        fileSystem(p).mkdirs(p);
    }

    public static void delete(String path) throws IOException {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
        fileSystem(p).delete(p, false);
    }

    /** Deletes a directory and everything in it. */
    public static void deleteRecursively(String dir) throws IOException {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(dir);
        fileSystem(p).delete(p, true);
    }

    /** {@code dir/name}. */
    public static String child(String dir, String name) {
        return new org.apache.hadoop.fs.Path(dir, name).toString();
    }
}
