document.getElementById('app')!.textContent = 'directory'
