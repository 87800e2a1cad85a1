// Verifies one captured webhook with the reference TypeScript library
// (npm standardwebhooks). Input on stdin: {"secret", "headers", "body"}
// with body in base64. Exits 0 when the signature verifies, 1 otherwise.
const { Webhook } = require("standardwebhooks");

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const { secret, headers, body } = JSON.parse(input);
  try {
    new Webhook(secret).verify(Buffer.from(body, "base64"), headers);
    console.log("verified");
  } catch (e) {
    console.log("rejected: " + e.message);
    process.exit(1);
  }
});
