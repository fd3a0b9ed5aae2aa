const { createClient } = require('redis');
const client = createClient();
await client.get('k');
