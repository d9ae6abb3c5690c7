/// Text put into HTML (S3 website error pages, the console's page shells): the four characters that could end an
/// element or an attribute, escaped.
public enum HTML {
    public static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
