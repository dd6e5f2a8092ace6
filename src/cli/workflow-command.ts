// GitHub Actions workflow commands (`::error title=…::message`), for CLI commands that run as a
// workflow step and want their result on the job's check run as an annotation. The runner reads
// them from the step's stdout; the escaping is the runner's own, so a message with a newline or a
// percent sign arrives as written instead of ending the command early.

export type AnnotationLevel = "notice" | "warning" | "error";

function escapeData(s: string): string {
  return s.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
}

function escapeProperty(s: string): string {
  return escapeData(s).replaceAll(":", "%3A").replaceAll(",", "%2C");
}

/** One workflow-command line, newline included. */
export function annotationCommand(level: AnnotationLevel, title: string, message: string): string {
  return `::${level} title=${escapeProperty(title)}::${escapeData(message)}\n`;
}
