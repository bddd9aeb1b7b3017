// Deliberately unsafe handler for Dracon's ESLint test.
const fs = require('fs');
const { exec } = require('child_process');

function handler(req, res) {
  exec('ls ' + req.query.dir);
  const data = fs.readFileSync(req.query.path);
  res.send(eval(req.body.code) + data);
}

module.exports = handler;
