import Core
/// The HTML shell of a page: the navigation, the account and region switcher, and the page's script. Everything
/// else is drawn by the script from the APIs' answers.
extension Console {
    static func shell(page: String, title: String, strict: Bool, account: String, region: String) -> String {
        let nav = ([("", "Overview")] + pages).map { p in
            "<a href=\"\(prefix)/\(p.path)\"\(p.path == page ? " class=\"current\" aria-current=\"page\"" : "")>\(HTML.escape(p.title))</a>"
        }.joined(separator: "")
        let script = page.isEmpty ? "overview" : page
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTML.escape(title)) · Cloudless console</title>
            <link rel="icon" href="data:,">
            <link rel="stylesheet" href="\(prefix)/assets/console.css">
            </head>
            <body data-page="\(script)" data-strict="\(strict)" data-default-account="\(account)" data-default-region="\(region)">
            <header>
            <a class="brand" href="\(prefix)/">Cloudless</a>
            <nav>\(nav)</nav>
            <form id="switcher" autocomplete="off"></form>
            </header>
            <main id="main"><h1>\(HTML.escape(title))</h1><div id="content"><p class="muted">Loading…</p></div></main>
            <div id="toast" role="status" aria-live="polite"></div>
            <script src="\(prefix)/assets/aws.js"></script>
            <script src="\(prefix)/assets/ui.js"></script>
            <script src="\(prefix)/assets/\(script).js"></script>
            </body>
            </html>

            """
    }
}
